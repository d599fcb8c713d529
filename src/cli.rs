//! The command line: `zen serve | stress | soak | top | report`. Every flag's doc comment is its `--help`.
use clap::{Parser, Subcommand};
use zen_load::args::{SoakArgs, StressArgs};
use zen_load::report::args::ReportArgs;
use zen_server::config::ServeConfig;
use zen_top::TopArgs;

/// zen: a fast MCP tool host with bounded memory, and the tools to load-test, soak-test and
/// watch any MCP server.
#[derive(Debug, Parser)]
#[command(name = "zen", version, propagate_version = true)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `zen`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the MCP tool host: stdio by default, streamable HTTP with --http
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Box<ServeConfig>),
    /// Put concurrent load on an MCP server and judge it against thresholds
    #[command(allow_negative_numbers = true, after_help = STRESS_EXAMPLES)]
    Stress(StressArgs),
    /// Run sustained load (one hour unless --duration) and judge the server's memory growth
    #[command(allow_negative_numbers = true, after_help = SOAK_EXAMPLES)]
    Soak(SoakArgs),
    /// Live dashboard of a running zen serve: latency, errors, pools, memory
    #[command(after_help = TOP_EXAMPLES)]
    Top(TopArgs),
    /// Show, chart (HTML), export (JUnit), compare or merge JSON reports of stress runs
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Print a shell completion script to stdout
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    #[command(after_help = MAN_EXAMPLES)]
    Man,
}

const SERVE_EXAMPLES: &str = "\
Examples:
  zen serve                                  stdio, as a desktop client spawns it
  zen serve --http 127.0.0.1:8931            streamable HTTP at /mcp
  MAX_CONCURRENT_REQUESTS=20 zen serve --http 127.0.0.1:8931";

const STRESS_EXAMPLES: &str = "\
Examples:
  zen stress -c 30                           spawn zen serve, 30 calls at once, 0 errors allowed
  zen stress --rate 500 -d 60s --tool version   open loop: latency from intended send times
  zen stress --stages \"30s:10,1m:50,30s:0\"   ramp the calls in flight up and down
  zen stress --find-ceiling --max-p99 300ms  the highest calls/s within p99 300 ms
  zen stress --url http://127.0.0.1:8931/mcp -c 64 -d 30s --max-p99 500ms
  zen stress --stdio \"node dist/index.js\" --tool echo --args '{\"message\":\"hi\"}'
  zen stress --protocol 2026-07-28,2025-11-25 --tool version -d 10s   both MCP eras side by side
  zen stress --scenario scenarios/mixed.toml --json > report.json";

const SOAK_EXAMPLES: &str = "\
Examples:
  zen soak -d 60s                            a quick one: warm-up 15s, a sample every 750ms
  zen soak --scenario scenarios/soak-1h.toml --series series.csv --out soak.json
  zen soak --url http://127.0.0.1:8931/mcp --pid 4242 -d 2h";

const TOP_EXAMPLES: &str = "\
Examples:
  zen top                                    attach to the zen serve found in the discovery directory
  zen top --pid 4242 --interval 500ms";

const REPORT_EXAMPLES: &str = "\
Examples:
  zen stress -c 30 -d 30s --out run.json     keep the report of a run
  zen report show run.json                   its text report again
  zen report html run.json -o run.html       charts in one offline HTML page
  zen report junit run.json -o junit.xml     one test case per threshold, for CI
  zen report compare base.json run.json --tolerance 10%   exit 1 when run.json is worse
  zen report merge a.json b.json -o all.json   runs made in parallel, combined exactly";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  zen completions bash > ~/.local/share/bash-completion/completions/zen
  zen completions zsh > ~/.zfunc/_zen
  zen completions fish > ~/.config/fish/completions/zen.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  zen man > ~/.local/share/man/man1/zen.1 && man zen
  zen man | man -l -";

/// Read `.env` (without overriding the environment), then parse the command line.
pub fn parse() -> Result<Cli, clap::Error> {
    let _ = dotenvy::dotenv();
    Cli::try_parse()
}
