//! The moto server process.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A running moto server. Dropping it kills the process.
pub struct Moto {
    child: Child,
    pub port: u16,
}

/// Picks a free port on 127.0.0.1 by binding port 0.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl Moto {
    /// Starts `moto_server` on 127.0.0.1:`port`. `MOTO_PORT` is set to
    /// `gateway_port`, so moto's own service calls (the Step Functions
    /// interpreter's Lambda, DynamoDB and SNS calls) go to the gateway.
    pub fn start(executable: &Path, port: u16, gateway_port: u16, log: &Path) -> anyhow::Result<Self> {
        if !executable.is_file() {
            bail!(
                "moto_server not found at {}: run `make venv` to install it, or set TPS_MOTO_SERVER",
                executable.display()
            );
        }
        let log_file = std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(executable);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_PORT", gateway_port.to_string())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        #[cfg(target_os = "linux")]
        unsafe {
            use std::os::unix::process::CommandExt;
            // Kill moto when the thread that started it exits, so a crashed
            // or killed runtime leaves no server behind.
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("failed to start {}", executable.display()))?;
        let mut moto = Moto { child, port };
        moto.wait_ready(Duration::from_secs(30), log)?;
        Ok(moto)
    }

    fn wait_ready(&mut self, timeout: Duration, log: &Path) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait()? {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                bail!("moto_server exited with {status} before it was ready; its log:\n{tail}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("moto_server did not listen on 127.0.0.1:{} within {timeout:?}; see {}", self.port, log.display())
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
