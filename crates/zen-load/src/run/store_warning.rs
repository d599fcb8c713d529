//! One warning before the load when the run's calls would write their conversations into a zen
//! store that outlives the run (a user's real store: 400 test threads from one 20 s run), with
//! which store it is and how to use a throwaway one. A spawned zen gets a temporary data
//! directory by itself; this catches `--env ZEN_DATA_DIR=…`, `--stdio "zen serve"` on the
//! default store, and a `--url` server on a persistent one.
use std::path::{Path, PathBuf};

use zen_model::snapshot::StoreStats;

use crate::plan::op::Op;
use crate::plan::scenario::CallSpec;
use crate::target::TargetSpec;

/// zen's tools that store no conversation.
const READ_ONLY_TOOLS: [&str; 4] = ["version", "listmodels", "metrics", "threads"];

/// The warning to print, if the run would write into a store that outlives it.
pub(crate) fn warning(
    spec: &TargetSpec,
    env: &[(String, String)],
    calls: &[CallSpec],
    is_zen: bool,
    store: Option<&StoreStats>,
) -> Option<String> {
    let writers: Vec<&str> = calls
        .iter()
        .filter(|c| c.op == Op::ToolsCall && !READ_ONLY_TOOLS.contains(&c.tool.as_str()))
        .map(|c| c.tool.as_str())
        .collect();
    if !is_zen || writers.is_empty() {
        return None;
    }
    let store = match store {
        Some(c) if !c.kind.is_empty() => Store::from_snapshot(&c.kind, c.location.as_deref())?,
        _ => Store::from_settings(spec, env)?,
    };
    let fix = match spec {
        TargetSpec::SpawnSelf if given(env, "ZEN_DATA_DIR").is_some() => {
            "drop --env ZEN_DATA_DIR (a spawned zen then gets a temporary store), or add --env \
             ZEN_STORE=memory"
        }
        TargetSpec::SpawnSelf | TargetSpec::Stdio(_) => {
            "add --env ZEN_STORE=memory (or --env ZEN_DATA_DIR=/tmp/…) for a store that goes \
             with the run"
        }
        TargetSpec::Url(_) => {
            "for a store that goes with the run, start that server with ZEN_STORE=memory (or \
             ZEN_DATA_DIR under /tmp)"
        }
    };
    let mut tools: Vec<&str> = Vec::new();
    for tool in writers {
        if !tools.contains(&tool) {
            tools.push(tool);
        }
    }
    Some(format!(
        "warning: this run's {} calls write their conversations into {store}, which outlives \
         the run; {fix}",
        tools.join(", ")
    ))
}

/// A store that outlives the run.
enum Store {
    /// SQLite, at this file (or in this directory).
    Sqlite(String),
    /// Redis, at this address.
    Redis(String),
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Sqlite(at) => write!(f, "zen's SQLite store at {at}"),
            Store::Redis(at) => write!(f, "zen's Redis store at {at}"),
        }
    }
}

impl Store {
    /// What the server's snapshot says; `None` for a store that goes with the run.
    fn from_snapshot(kind: &str, location: Option<&str>) -> Option<Self> {
        let at = location.unwrap_or("its default location").to_string();
        match kind {
            "sqlite" if location.is_some_and(|l| temporary(Path::new(l))) => None,
            "sqlite" => Some(Store::Sqlite(at)),
            "redis" => Some(Store::Redis(at)),
            _ => None,
        }
    }

    /// What the target's settings say, when its snapshot cannot be read: the store and data
    /// directory given with `--env` or on the `--stdio` command line, else the default.
    fn from_settings(spec: &TargetSpec, env: &[(String, String)]) -> Option<Self> {
        let words = match spec {
            TargetSpec::Stdio(line) => shlex::split(line).unwrap_or_default(),
            TargetSpec::SpawnSelf => Vec::new(),
            TargetSpec::Url(_) => return None,
        };
        let flag = |name: &str| {
            let eq = format!("{name}=");
            words.iter().enumerate().find_map(|(i, w)| {
                if w == name {
                    words.get(i + 1).cloned()
                } else {
                    w.strip_prefix(&eq).map(str::to_string)
                }
            })
        };
        let inherited = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let store = flag("--store")
            .or_else(|| given(env, "ZEN_STORE"))
            .or_else(|| inherited("ZEN_STORE"))
            .unwrap_or_default();
        if store == "memory" {
            return None;
        }
        if store.starts_with("redis://") || store.starts_with("rediss://") {
            let host = store.split('@').next_back().unwrap_or(&store).to_string();
            return Some(Store::Redis(host));
        }
        let dir = match spec {
            // A spawned zen's data directory is a temporary one unless --env names one.
            TargetSpec::SpawnSelf => PathBuf::from(given(env, "ZEN_DATA_DIR")?),
            _ => flag("--data-dir")
                .or_else(|| given(env, "ZEN_DATA_DIR"))
                .or_else(|| inherited("ZEN_DATA_DIR"))
                .map_or_else(zen_os::discovery::default_data_dir, PathBuf::from),
        };
        (!temporary(&dir)).then(|| Store::Sqlite(dir.display().to_string()))
    }
}

/// The value `--env` gives `key` (the last one wins, as for the spawned process).
fn given(env: &[(String, String)], key: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.clone())
}

/// Under the system's temporary directory (compared with symlinks resolved where they exist).
fn temporary(path: &Path) -> bool {
    let resolve = |p: &Path| {
        p.ancestors()
            .find_map(|a| {
                let real = a.canonicalize().ok()?;
                Some(real.join(p.strip_prefix(a).ok()?))
            })
            .unwrap_or_else(|| p.to_path_buf())
    };
    let temp = std::env::temp_dir();
    path.starts_with(&temp) || resolve(path).starts_with(resolve(&temp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Vec<CallSpec> {
        let mut call: CallSpec =
            serde_json::from_value(serde_json::json!({"tool": "chat"})).unwrap();
        call.op = Op::ToolsCall;
        vec![call]
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn a_spawned_zen_warns_only_for_a_data_dir_that_outlives_the_run() {
        let spawned = TargetSpec::SpawnSelf;
        assert_eq!(warning(&spawned, &[], &chat(), true, None), None);
        let temp = std::env::temp_dir().join("zen-x").display().to_string();
        let env = [pair("ZEN_DATA_DIR", &temp)];
        assert_eq!(warning(&spawned, &env, &chat(), true, None), None);
        let env = [pair("ZEN_DATA_DIR", "/srv/zen-data")];
        let text = warning(&spawned, &env, &chat(), true, None).unwrap();
        assert!(
            text.contains(
                "chat calls write their conversations into zen's SQLite store at /srv/zen-data"
            ) && text.contains("drop --env ZEN_DATA_DIR"),
            "{text}"
        );
        let env = [
            pair("ZEN_DATA_DIR", "/srv/zen-data"),
            pair("ZEN_STORE", "memory"),
        ];
        assert_eq!(warning(&spawned, &env, &chat(), true, None), None);
    }

    #[test]
    fn a_stdio_zen_on_its_default_store_is_named_and_read_only_tools_are_not() {
        let stdio = TargetSpec::Stdio("zen serve --data-dir /srv/zen".into());
        let text = warning(&stdio, &[], &chat(), true, None).unwrap();
        assert!(
            text.contains("/srv/zen") && text.contains("ZEN_STORE=memory"),
            "{text}"
        );
        let mut version = chat();
        version[0].tool = "version".into();
        assert_eq!(warning(&stdio, &[], &version, true, None), None);
        assert_eq!(warning(&stdio, &[], &chat(), false, None), None);
    }

    #[test]
    fn a_url_target_is_judged_by_what_its_snapshot_says() {
        let url = TargetSpec::Url(vec!["http://127.0.0.1:1/mcp".into()]);
        let mut store = StoreStats {
            kind: "sqlite".into(),
            location: Some("/home/u/.local/share/zen/conversations.db".into()),
            ..StoreStats::default()
        };
        let text = warning(&url, &[], &chat(), true, Some(&store)).unwrap();
        assert!(
            text.contains("/home/u/.local/share/zen/conversations.db")
                && text.contains("start that server with ZEN_STORE=memory"),
            "{text}"
        );
        store.kind = "memory".into();
        assert_eq!(warning(&url, &[], &chat(), true, Some(&store)), None);
        // Without a snapshot nothing is known of a server we did not start: no guess.
        assert_eq!(warning(&url, &[], &chat(), true, None), None);
    }
}
