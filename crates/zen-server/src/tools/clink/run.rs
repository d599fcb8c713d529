//! One run of a CLI as a child process: no shell (the program and its arguments as given), the
//! environment given explicitly (never zen's own), the prompt on stdin, stdout and stderr read
//! up to a cap, and the child made the leader of its own process group, so that the whole group
//! (the CLI and whatever it started) is killed when the run ends, overruns its cap, or is dropped
//! (its time limit passed, or the call was cancelled).
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// What to run.
pub(crate) struct Spec<'a> {
    /// The program: a name looked up on the `PATH` in `env`, or a path.
    pub program: &'a str,
    /// Its arguments.
    pub args: &'a [String],
    /// Its whole environment.
    pub env: &'a [(String, String)],
    /// Where it runs (zen's working directory when `None`).
    pub cwd: Option<&'a Path>,
    /// Written to its stdin, which is then closed.
    pub stdin: &'a [u8],
    /// The most read from stdout, and from stderr.
    pub max_output: u64,
}

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Its exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Everything it printed on stdout.
    pub stdout: Vec<u8>,
    /// Everything it printed on stderr.
    pub stderr: Vec<u8>,
}

/// Why a run gave no output.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The program does not exist (not on the PATH it was given, or no such file).
    NotFound,
    /// It could not be started.
    Spawn(std::io::Error),
    /// It printed more than the cap on this stream; its group was killed.
    TooMuchOutput(&'static str),
    /// Waiting for it failed.
    Wait(std::io::Error),
}

/// The child's process group, killed on drop unless the run finished and it was killed then.
struct Group {
    /// The group id: the child's pid (it leads its group).
    pgid: u32,
    /// Still to be killed when dropped.
    armed: AtomicBool,
}

impl Group {
    fn kill(&self) {
        zen_os::ffi::kill_process_group(self.pgid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed.load(Ordering::Relaxed) {
            self.kill();
        }
    }
}

/// Run `spec` to its end. Not bounded in time here: the caller's timeout drops this future,
/// and with it the child and its group.
pub(crate) async fn run(spec: Spec<'_>) -> Result<Finished, RunError> {
    let mut command = Command::new(spec.program);
    command
        .args(spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if let Some(dir) = spec.cwd {
        command.current_dir(dir);
    }
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound,
        _ => RunError::Spawn(e),
    })?;
    let group = Group {
        pgid: child.id().unwrap_or(0),
        armed: AtomicBool::new(true),
    };
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let feed = async {
        if let Some(mut stdin) = stdin {
            // A CLI that does not read all of it gets EPIPE here: not an error of the run.
            let _ = stdin.write_all(spec.stdin).await;
            let _ = stdin.shutdown().await;
        }
    };
    let out = read_capped(stdout, spec.max_output, "stdout", &group);
    let err = read_capped(stderr, spec.max_output, "stderr", &group);
    let exit = async {
        let status = child.wait().await;
        // What it left running would hold the pipes open (and outlive the call): end it now.
        group.kill();
        status
    };
    let ((), out, err, status) = tokio::join!(feed, out, err, exit);
    group.armed.store(false, Ordering::Relaxed);
    let (stdout, stderr) = (out?, err?);
    let status = status.map_err(RunError::Wait)?;
    Ok(Finished {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// Read a stream to its end, or kill the group once it passes `cap` bytes.
async fn read_capped(
    stream: Option<impl AsyncRead + Unpin>,
    cap: u64,
    name: &'static str,
    group: &Group,
) -> Result<Vec<u8>, RunError> {
    let Some(stream) = stream else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    // A read error ends the stream: what was read is kept.
    let _ = stream
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .await;
    if bytes.len() as u64 > cap {
        group.kill();
        return Err(RunError::TooMuchOutput(name));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sh(script: &str) -> (String, Vec<String>) {
        ("/bin/sh".into(), vec!["-c".into(), script.into()])
    }

    async fn run_sh(script: &str, stdin: &[u8], cap: u64) -> Result<Finished, RunError> {
        let (program, args) = sh(script);
        let env = [("PATH".to_string(), "/usr/bin:/bin".to_string())];
        run(Spec {
            program: &program,
            args: &args,
            env: &env,
            cwd: None,
            stdin,
            max_output: cap,
        })
        .await
    }

    fn alive(pid: u32) -> bool {
        // A zombie is dead for our purposes; its state is the third field of /proc/PID/stat.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|s| !s.trim_start().starts_with('Z'))
        })
    }

    #[tokio::test]
    async fn the_prompt_goes_in_on_stdin_and_both_streams_come_back() {
        let done = run_sh("tr a-z A-Z; echo warn >&2; exit 3", b"hello", 1024)
            .await
            .unwrap();
        assert_eq!(done.stdout, b"HELLO");
        assert_eq!(done.stderr, b"warn\n");
        assert_eq!(done.code, Some(3));
        // No shell in between (a shell sets PWD itself): env prints exactly what it was given.
        let given = [("PATH".to_string(), "/usr/bin:/bin".to_string())];
        let env = run(Spec {
            program: "env",
            args: &[],
            env: &given,
            cwd: None,
            stdin: b"",
            max_output: 1024,
        })
        .await
        .unwrap();
        assert_eq!(
            String::from_utf8(env.stdout).unwrap().trim(),
            "PATH=/usr/bin:/bin"
        );
    }

    #[tokio::test]
    async fn output_past_the_cap_kills_the_group() {
        let err = run_sh("yes", b"", 64 * 1024).await.unwrap_err();
        assert!(matches!(err, RunError::TooMuchOutput("stdout")), "{err:?}");
        let err = run_sh("yes >&2", b"", 1024).await.unwrap_err();
        assert!(matches!(err, RunError::TooMuchOutput("stderr")), "{err:?}");
    }

    #[tokio::test]
    async fn a_dropped_run_kills_the_cli_and_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = format!(
            "sleep 600 & echo $! > {0}.tmp; echo $$ >> {0}.tmp; mv {0}.tmp {0}; wait",
            pids.display()
        );
        let running = run_sh(&script, b"", 1024);
        let waited = tokio::time::timeout(Duration::from_secs(30), async {
            tokio::pin!(running);
            loop {
                tokio::select! {
                    _ = &mut running => panic!("the script ended by itself"),
                    () = tokio::time::sleep(Duration::from_millis(20)) => {
                        if pids.exists() { break; }
                    }
                }
            }
            // Leaving the block drops the run: the cancellation of a call.
        })
        .await;
        assert!(waited.is_ok(), "the script started");
        let pids: Vec<u32> = (std::fs::read_to_string(&pids).unwrap().lines())
            .map(|l| l.trim().parse().unwrap())
            .collect();
        for _ in 0..500 {
            if !pids.iter().any(|p| alive(*p)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("still alive after the run was dropped: {pids:?}");
    }

    #[tokio::test]
    async fn a_missing_program_is_not_found() {
        let err = run(Spec {
            program: "zen-no-such-cli",
            args: &[],
            env: &[("PATH".into(), "/usr/bin:/bin".into())],
            cwd: None,
            stdin: b"",
            max_output: 10,
        })
        .await
        .unwrap_err();
        assert!(matches!(err, RunError::NotFound), "{err:?}");
    }
}
