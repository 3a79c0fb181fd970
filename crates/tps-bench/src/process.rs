//! One cold start: a function process started against a fresh Runtime API.
//! It is timed until it requests its first event and until it responds, and
//! its peak memory is read once it is idle again.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde::Serialize;

use crate::runtime_api::{Invocation, Outcome, RuntimeApi};

/// Program, arguments, environment and log file of a function process.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The whole environment of the process; `AWS_LAMBDA_RUNTIME_API` is added.
    pub env: BTreeMap<String, String>,
    /// File that receives the process's stdout and stderr.
    pub log: PathBuf,
}

/// Figures of one cold start.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// Process start to the first `next` request, in milliseconds.
    pub init_ms: f64,
    /// Process start to the response to the first event, in milliseconds.
    pub first_response_ms: f64,
    /// `VmHWM` of `/proc/<pid>/status` once the process is idle after the event, in KiB.
    pub vm_hwm_kib: Option<u64>,
    /// `ru_maxrss` that `wait4` reports for the killed process, in KiB.
    pub ru_maxrss_kib: Option<u64>,
}

impl ColdStart {
    /// Returns the larger of the two peak memory readings, in MiB.
    pub fn max_rss_mib(&self) -> Option<f64> {
        self.vm_hwm_kib.max(self.ru_maxrss_kib).map(|kib| kib as f64 / 1024.0)
    }
}

/// Interval at which the harness polls the Runtime API and the child.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Starts `launch`, serves it `invocation`, waits until it requests the next
/// event (or exits, or `timeout` passes), then kills it. `check` must accept
/// the outcome, or the run fails with the tail of the process's log.
///
/// Times are taken when the requests arrive at the Runtime API, so the
/// harness's polling adds nothing to them.
pub async fn cold_start(
    launch: &Launch,
    invocation: Invocation,
    timeout: Duration,
    check: impl Fn(&Outcome) -> anyhow::Result<()>,
) -> anyhow::Result<ColdStart> {
    let api = RuntimeApi::start(invocation).await?;
    let log = File::create(&launch.log).with_context(|| format!("cannot create {}", launch.log.display()))?;
    let mut command = Command::new(&launch.program);
    command
        .args(&launch.args)
        .env_clear()
        .envs(&launch.env)
        .env("AWS_LAMBDA_RUNTIME_API", api.host_port())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    kill_with_parent(&mut command);

    let started = Instant::now();
    let child = command.spawn().with_context(|| format!("failed to start {}", launch.program.display()))?;
    let pid = child.id() as libc::pid_t;
    // The child is reaped with wait4 below, which also returns its rusage.
    drop(child);

    let deadline = started + timeout;
    let mut exited = None;
    loop {
        let observed = api.observed();
        if observed.is_idle() || observed.init_failed() {
            break;
        }
        if let Some(reaped) = reap(pid, libc::WNOHANG)? {
            exited = Some(reaped);
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }

    let vm_hwm_kib = if exited.is_none() { read_vm_hwm(pid) } else { None };
    let reaped = match exited {
        Some(reaped) => reaped,
        None => {
            // SAFETY: pid is our unreaped child, so it cannot name another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            reap(pid, 0)?.ok_or_else(|| anyhow!("wait4 returned no status for process {pid}"))?
        }
    };
    let observed = api.observed();
    drop(api);

    let describe = || format!("{} (log {})", launch.program.display(), launch.log.display());
    let Some(first_next) = observed.first_next else {
        bail!(
            "{} never requested an event within {timeout:?} ({}); log tail:\n{}",
            describe(),
            describe_status(reaped.status),
            log_tail(&launch.log)
        );
    };
    let Some((responded, outcome)) = observed.outcome else {
        bail!("{} did not respond to its event within {timeout:?}; log tail:\n{}", describe(), log_tail(&launch.log));
    };
    if let Err(error) = check(&outcome) {
        bail!("{} responded to its event with an unexpected {}: {error:#}; log tail:\n{}", describe(), outcome.kind(), log_tail(&launch.log));
    }

    Ok(ColdStart {
        init_ms: millis(first_next - started),
        first_response_ms: millis(responded - started),
        vm_hwm_kib,
        ru_maxrss_kib: Some(reaped.max_rss_kib),
    })
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Kills the child when the thread that started it exits, so an interrupted
/// benchmark leaves no function process behind.
fn kill_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

struct Reaped {
    status: i32,
    max_rss_kib: u64,
}

/// Reaps `pid` with `wait4`; `None` when it still runs (with `WNOHANG`).
fn reap(pid: libc::pid_t, options: libc::c_int) -> anyhow::Result<Option<Reaped>> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    let result = unsafe { libc::wait4(pid, &mut status, options, &mut usage) };
    match result {
        0 => Ok(None),
        r if r == pid => Ok(Some(Reaped { status, max_rss_kib: usage.ru_maxrss.max(0) as u64 })),
        _ => Err(std::io::Error::last_os_error()).with_context(|| format!("wait4 on process {pid}")),
    }
}

/// Describes a `wait4` status in words.
fn describe_status(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status}")
    }
}

/// `VmHWM` (peak resident set size) of a running process, in KiB.
fn read_vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Returns the last lines of a log file, for error messages.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_parsed_in_kib() {
        let status = "Name:\tbootstrap\nVmPeak:\t  20000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t   12000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(12345));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn max_rss_takes_the_larger_reading() {
        let run = ColdStart { init_ms: 1.0, first_response_ms: 2.0, vm_hwm_kib: Some(2048), ru_maxrss_kib: Some(3072) };
        assert_eq!(run.max_rss_mib(), Some(3.0));
    }

    #[tokio::test]
    async fn process_without_next_request_is_reported() {
        let dir = std::env::temp_dir();
        let launch = Launch {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), "echo starting; exit 3".into()],
            env: BTreeMap::new(),
            log: dir.join(format!("tps-bench-test-{}.log", std::process::id())),
        };
        let invocation = Invocation { request_id: "r".into(), function_arn: "arn".into(), payload: bytes::Bytes::new() };
        let error = cold_start(&launch, invocation, Duration::from_secs(10), |_| Ok(())).await.unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("never requested an event"), "{message}");
        assert!(message.contains("starting"), "{message}");
        assert!(message.contains("exit code 3"), "{message}");
        let _ = std::fs::remove_file(&launch.log);
    }
}
