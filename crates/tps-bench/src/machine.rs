//! The machine and tool versions a benchmark ran with.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub os: String,
    pub kernel: String,
}

/// Reads the machine's description from /proc and /etc/os-release.
pub fn describe() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    Machine {
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        cpu_model: field(&cpuinfo, "model name", ':').unwrap_or_else(|| "unknown".into()),
        memory_gib: field(&meminfo, "MemTotal", ':')
            .and_then(|value| value.trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| kib / 1024.0 / 1024.0)
            .unwrap_or(0.0),
        os: field(&os_release, "PRETTY_NAME", '=').map(|v| v.trim_matches('"').to_string()).unwrap_or_else(|| "unknown".into()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|v| v.trim().to_string()).unwrap_or_default(),
    }
}

/// Returns the value of the first `key<separator>value` line of `text`.
fn field(text: &str, key: &str, separator: char) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(separator)?;
        (name.trim() == key).then(|| value.trim().to_string())
    })
}

/// Returns the first line a command prints, or why it printed none.
pub fn command_version(program: &Path, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(output) => {
            let text = if output.stdout.is_empty() { output.stderr } else { output.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or("").trim().to_string()
        }
        Err(error) => format!("not available ({}: {error})", program.display()),
    }
}

/// Versions of Python packages as `name version` pairs, read with `python`.
pub fn python_packages(python: &Path, packages: &[&str]) -> String {
    let script = format!(
        "import importlib.metadata as m\nprint(', '.join(p + ' ' + m.version(p) for p in {packages:?}))"
    );
    command_version(python, &["-c", &script])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_by_key() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
        assert_eq!(field(cpuinfo, "model name", ':').as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(field("PRETTY_NAME=\"Debian GNU/Linux 12\"\n", "PRETTY_NAME", '=').as_deref(), Some("\"Debian GNU/Linux 12\""));
        assert_eq!(field(cpuinfo, "cache size", ':'), None);
    }

    #[test]
    fn machine_has_cpus_and_memory() {
        let machine = describe();
        assert!(machine.cpus >= 1);
        assert!(machine.memory_gib > 0.0);
    }
}
