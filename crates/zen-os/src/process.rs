//! Reading one process's resident memory, threads and open files: /proc on Linux (a few µs),
//! sysinfo elsewhere, and sysinfo for CPU. Never a scan of every process.
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// OS threads of the process; `None` where they cannot be read (outside Linux).
    pub threads: Option<u64>,
    /// Open file descriptors; `None` where they cannot be read (outside Linux).
    pub open_fds: Option<u64>,
}

/// Read a process's memory, threads and open fds; `None` if it is gone.
pub fn sample(pid: u32) -> Option<ProcSample> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()
            .map(|d| d.count() as u64);
        Some(ProcSample {
            rss_bytes: field("VmRSS:").unwrap_or(0) * 1024,
            threads: field("Threads:"),
            open_fds,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut meter = CpuMeter::new(pid)?;
        let rss_bytes = meter.refresh()?.1;
        Some(ProcSample {
            rss_bytes,
            threads: None,
            open_fds: None,
        })
    }
}

/// CPU and memory of one process through sysinfo; CPU % needs two refreshes apart in time.
pub struct CpuMeter {
    system: System,
    pid: Pid,
}

impl CpuMeter {
    /// A meter for process `pid`; `None` when sysinfo cannot be set up.
    pub fn new(pid: u32) -> Option<Self> {
        Some(CpuMeter {
            system: System::new().ok()?,
            pid: Pid::from_u32(pid),
        })
    }

    /// Refresh; returns (CPU % of one core since the last refresh, RSS bytes).
    pub fn refresh(&mut self) -> Option<(f64, u64)> {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            false,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        let p = self.system.process(self.pid)?;
        Some((f64::from(p.cpu_usage()), p.memory()))
    }
}

/// CPU seconds (user + system) this process has used.
pub fn cpu_secs() -> f64 {
    crate::ffi::own_cpu_secs()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let s = super::sample(std::process::id()).expect("own process readable");
        assert!(s.rss_bytes > 1024 * 1024, "{s:?}");
        #[cfg(target_os = "linux")]
        assert!(s.threads.unwrap() >= 1 && s.open_fds.unwrap() >= 3, "{s:?}");
    }
}
