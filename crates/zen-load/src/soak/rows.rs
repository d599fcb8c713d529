//! The soak's time series file (`--series`, CSV or NDJSON): one row per memory sample, flushed as
//! it is written so a killed run still leaves its series behind.
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// One row of the time series.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Row {
    pub t_secs: f64,
    pub target_rss_bytes: u64,
    pub target_threads: Option<u64>,
    pub target_fds: Option<u64>,
    pub generator_rss_bytes: u64,
    /// Conversation bytes held in zen's memory (all of them for the memory store, the cache
    /// for a store on disk): what RSS carries of the store.
    pub conversation_resident_bytes: Option<u64>,
    /// The store's files on disk (sqlite), apart from RSS.
    pub store_file_bytes: Option<u64>,
    pub calls_ok: u64,
    pub calls_failed: u64,
    pub warmup: bool,
    /// zen: the bounded parts of its memory together (page cache, histograms, …).
    pub bounded_bytes: Option<u64>,
    /// zen: bytes the C allocator has handed out (what zen holds).
    pub heap_in_use_bytes: Option<u64>,
    /// zen: bytes freed to the C allocator and kept (resident, in no use).
    pub heap_free_bytes: Option<u64>,
    /// zen: every byte SQLite holds.
    pub sqlite_bytes: Option<u64>,
}

/// The columns of the time series file, in order (also listed in the report).
pub(super) const COLUMNS: [&str; 14] = [
    "t_secs",
    "target_rss_bytes",
    "target_threads",
    "target_fds",
    "generator_rss_bytes",
    "conversation_resident_bytes",
    "store_file_bytes",
    "calls_ok",
    "calls_failed",
    "warmup",
    "bounded_bytes",
    "heap_in_use_bytes",
    "heap_free_bytes",
    "sqlite_bytes",
];

/// The file being written.
pub(super) enum SeriesFile {
    Csv(std::io::BufWriter<std::fs::File>),
    Ndjson(std::io::BufWriter<std::fs::File>),
}

impl SeriesFile {
    pub(super) fn create(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let open = || {
            std::fs::File::create(path)
                .map(std::io::BufWriter::new)
                .with_context(|| format!("cannot write {}", path.display()))
        };
        match ext {
            "csv" => {
                let mut w = open()?;
                writeln!(w, "{}", COLUMNS.join(","))?;
                Ok(SeriesFile::Csv(w))
            }
            "ndjson" | "jsonl" => Ok(SeriesFile::Ndjson(open()?)),
            _ => bail!("--series {}: name it .csv or .ndjson", path.display()),
        }
    }

    pub(super) fn write(&mut self, s: &Row) -> Result<()> {
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        match self {
            SeriesFile::Csv(w) => writeln!(
                w,
                "{:.3},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                s.t_secs,
                s.target_rss_bytes,
                opt(s.target_threads),
                opt(s.target_fds),
                s.generator_rss_bytes,
                opt(s.conversation_resident_bytes),
                opt(s.store_file_bytes),
                s.calls_ok,
                s.calls_failed,
                s.warmup,
                opt(s.bounded_bytes),
                opt(s.heap_in_use_bytes),
                opt(s.heap_free_bytes),
                opt(s.sqlite_bytes),
            )?,
            SeriesFile::Ndjson(w) => writeln!(w, "{}", serde_json::to_string(s)?)?,
        }
        match self {
            SeriesFile::Csv(w) | SeriesFile::Ndjson(w) => w.flush()?,
        }
        Ok(())
    }
}
