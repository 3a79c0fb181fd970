//! `tps`: the operator command line of the Tenant Provisioning Service.

mod context;
mod errors;
mod input;
mod local;
mod output;
mod schema;
mod status;
mod tenant;
mod validate;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::GlobalArgs;
use crate::output::{exit, EXIT_CODES_HELP};

#[derive(Parser, Debug)]
#[command(
    name = "tps",
    version,
    about = "Onboard, inspect and follow Amazon Ads tenants of the Tenant Provisioning Service.",
    long_about = "Onboard, inspect and follow Amazon Ads tenants of the Tenant Provisioning Service.\n\n\
        Works against AWS with the default credential chain, or against the local runtime with --local \
        after `tps local up`. The tables and queue are tps-{team}-CustomerConfig-{env}, \
        tps-{team}-TenantStatus-{env} and tps-{team}-TenantStatus-{env}.fifo.",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check tenant record files against every rule without writing them.
    ///
    /// Prints each record's verdict and every error with its field path and
    /// rule. Exit code 0 when every record is valid, 1 when any is invalid,
    /// 2 when a file cannot be read.
    Validate(validate::ValidateArgs),

    /// Write, read, list and delete rows of the tenant table.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),

    /// Show tenants' overall and per-module status, last change and key
    /// outputs (buckets, key aliases, queues) from the status table.
    Status(status::StatusArgs),

    /// Follow the notifications of the status queue as they arrive, one line
    /// each, until Ctrl-C. Deletes every message it receives.
    Watch(watch::WatchArgs),

    /// Print the JSON Schema of the tenant record, or the Markdown field
    /// reference rendered from it.
    ///
    /// Point an editor's JSON Schema support at the output to check rows as
    /// they are written. The schema covers types, patterns and lengths.
    /// `tps validate` checks every rule, including the datasets each
    /// advertising region offers and the S3 bucket name rules.
    Schema(schema::SchemaArgs),

    /// Run the whole service on this machine against a local AWS emulator (moto).
    #[command(subcommand)]
    Local(local::LocalCommand),
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Local(_)) {
        init_logging(cli.global.debug);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let global = cli.global;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Validate(args) => validate::run(&args, global.output),
            Command::Tenant(command) => tenant::run(command, &global).await,
            Command::Status(args) => status::run(args, &global).await,
            Command::Watch(args) => watch::run(args, &global).await,
            Command::Schema(args) => schema::run(&args),
            Command::Local(command) => local::run(command, &global).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// Restores the default SIGPIPE action, which Rust programs ignore, so that
/// `tps ... | head` ends quietly instead of panicking on a closed pipe.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called at the start of main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Installs a logger that writes to standard error: debug with `--debug`, else the level in
/// `RUST_LOG`, else warnings only.
fn init_logging(debug: bool) {
    let filter = if debug {
        tracing_subscriber::EnvFilter::new("debug,hyper=info,h2=info,rustls=info")
    } else {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
