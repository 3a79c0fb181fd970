//! `tps local up` and `tps local demo`, each starting its own local runtime.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{repo_root, tps};
use predicates::prelude::*;

#[test]
fn up_serves_local_commands_until_interrupted() {
    let mut up = common::tps_background()
        .current_dir(repo_root())
        .args(["local", "up", "--port", "0", "--env", "uptest"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The export line comes once the runtime is ready; JSON log lines of
    // the functions may come before it.
    let mut stdout = BufReader::new(up.stdout.take().unwrap());
    let mut endpoint = None;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(url) = line.trim().strip_prefix("export TPS_LOCAL_ENDPOINT=") {
            endpoint = Some(url.to_string());
            break;
        }
        seen.push(line);
    }
    let endpoint = endpoint.unwrap_or_else(|| panic!("no export line on standard output; got {seen:?}"));
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");

    tps()
        .env("TPS_LOCAL_ENDPOINT", &endpoint)
        .args(["--local", "--env", "uptest", "tenant", "list"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("no tenants in table tps-demoteam-CustomerConfig-uptest"));
    tps()
        .env("TPS_LOCAL_ENDPOINT", &endpoint)
        .args(["--local", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("table tps-demoteam-TenantStatus-local not found"));

    // SAFETY: kill(2) with the id of a child this test started and still owns.
    let sent = unsafe { libc::kill(up.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(SIGINT) failed");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = up.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = up.kill();
            panic!("tps local up did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    up.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("local runtime ready"), "{stderr}");
    assert!(stderr.contains("tenant table    tps-demoteam-CustomerConfig-uptest"), "{stderr}");
    assert!(stderr.contains("try             TPS_LOCAL_ENDPOINT="), "{stderr}");
    assert!(stderr.contains("tps --local --env uptest status"), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
}

#[test]
fn up_reports_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    tps()
        .current_dir(repo_root())
        .args(["local", "up", "--port", &port])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("port {port} is in use")))
        .stderr(predicate::str::contains("--port"));
}

#[test]
fn demo_onboards_examples() {
    tps()
        .current_dir(repo_root())
        .args(["local", "demo"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("acme-retail"))
        .stdout(predicate::str::contains("TenantValidationFailed"))
        .stdout(predicate::str::contains("every tenant reached its expected status"));
}
