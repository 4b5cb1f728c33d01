//! The command line: arguments (clap) and dispatch to [`crate::cmd`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;

#[derive(Debug, Parser)]
#[command(
    name = "procdoc",
    version,
    about = "Publish step-by-step procedures as an accessible web site and printable handouts",
    long_about = "Publish step-by-step procedures as an accessible web site and printable handouts.\n\nWith no command, procdoc builds the site: it checks every procedure in procedures/ and publishes the site into output/.",
    after_help = "Examples:\n  procdoc                      check and publish the site in this folder\n  procdoc check                report every problem in every procedure\n  procdoc --root site check    the same for the site in the folder site/\n  procdoc new \"File a Motion\" a new procedure, ready to fill in\n  procdoc import old.txt       a legacy STEP/ACTION export into the source format\n  procdoc serve                preview the site while you edit, at http://127.0.0.1:3000/"
)]
pub struct Cli {
    /// The site's folder: it holds procdoc.toml and procedures/
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,

    /// Print only problems: no progress bar, no closing summary
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every procedure, then publish the site (the default command)
    #[command(
        after_help = "Examples:\n  procdoc build\n  procdoc build --out public\n  procdoc build --no-pdf       the pages only, without the handouts\n\nThe build checks first and publishes nothing while the check finds errors.\nThe new site replaces the output folder in one step, and only a folder that\nprocdoc made itself."
    )]
    Build {
        /// Where to publish the site [default: output/ in the site's folder]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Publish the pages without the printable PDF handouts (faster)
        #[arg(long)]
        no_pdf: bool,
        /// Empty the build cache (.procdoc-cache/) first and make everything anew
        #[arg(long)]
        clean: bool,
    },
    /// Report every problem in every procedure, with file, line and column
    #[command(
        after_help = "Examples:\n  procdoc check\n  procdoc check --format json > problems.json\n\nExit status: 0 no errors (warnings allowed), 1 errors found, 2 could not run."
    )]
    Check {
        /// How to print the problems
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Start a new procedure: procedures/<slug>.md with placeholder steps
    #[command(
        after_help = "Examples:\n  procdoc new \"File a Notice of Appearance\"\n  procdoc new \"Pay a Filing Fee Online\" --category \"E-Filing (CM/ECF)\"\n\nThe file is named after the title (procedures/file-a-notice-of-appearance.md)\nand already passes procdoc check: replace its placeholder text with the real\nsteps. An existing file is never overwritten."
    )]
    New {
        /// The procedure's title, in quotes
        title: String,
        /// The category it is listed under on the site's index page
        #[arg(long, value_name = "CATEGORY")]
        category: Option<String>,
    },
    /// Turn a legacy procedure exported as text (STEP/ACTION rows) into Markdown
    #[command(
        after_help = "Examples:\n  procdoc import old/link-accounts.txt                  writes procedures/<slug>.md\n  procdoc import old/link-accounts.txt --out draft.md\n  procdoc import old/handbook.txt --out imported/       one file per procedure\n\nThe screenshot descriptions become images still to be supplied: procdoc check\nthen lists each missing picture with the file name it expects. A file whose\nstep numbers start again at 1 under a new heading holds several procedures.\nNothing is written if any line cannot be read, and no file is overwritten."
    )]
    Import {
        /// The legacy text file
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// A .md file, or a folder (existing, or ending in /) for one file per procedure [default: procedures/]
        #[arg(long, value_name = "FILE_OR_FOLDER")]
        out: Option<PathBuf>,
    },
    /// Preview the site in a browser while you edit: it is rebuilt on every save
    #[command(
        after_help = "Examples:\n  procdoc serve                then open http://127.0.0.1:3000/ in a browser\n  procdoc serve --open         and open it for you\n  procdoc serve --port 8080\n  procdoc --root site serve\n\nThe preview is built into .procdoc-cache/serve/, never into output/, and only\nthis computer can see it (127.0.0.1) unless --bind says otherwise. Each time a\nfile in procedures/, themes/ or templates/, or procdoc.toml, is saved, the site\nis rebuilt and the open pages reload. While a save has errors, the pages keep\nthe last version that built and list the problems over it.\nPress Ctrl-C to stop."
    )]
    Serve {
        /// The port to serve on; 0 for any free port [default: 3000, or the next free one]
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// The address to serve on; 0.0.0.0 lets other machines see the preview
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = crate::serve::parse_bind)]
        bind: std::net::IpAddr,
        /// Open the preview in the web browser
        #[arg(long)]
        open: bool,
        /// Preview the pages without the printable PDF handouts (faster)
        #[arg(long)]
        no_pdf: bool,
    },
    /// Internal: lay out handouts for a build (a worker process)
    #[command(name = "__handouts", hide = true)]
    Handouts {
        /// The theme the build uses
        theme: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Like a compiler: the line, a caret and a hint (on standard error)
    Human,
    /// One JSON array of diagnostics (on standard output)
    Json,
}

/// Parse the arguments and run the command; the exit status says how it went.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    crate::render::init_threads();
    let default = Command::Build {
        out: None,
        no_pdf: false,
        clean: false,
    };
    match cli.command.unwrap_or(default) {
        Command::Build { out, no_pdf, clean } => {
            cmd::build::run(&cli.root, out.as_deref(), !no_pdf, clean, cli.quiet)
        }
        Command::Check { format } => cmd::check::run(&cli.root, format, cli.quiet),
        Command::New { title, category } => cmd::new::run(&cli.root, &title, category.as_deref()),
        Command::Import { file, out } => cmd::import::run(&cli.root, &file, out.as_deref()),
        Command::Serve {
            port,
            bind,
            open,
            no_pdf,
        } => cmd::serve::run(
            &cli.root,
            cmd::serve::Args {
                port,
                bind,
                open,
                pdf: !no_pdf,
                quiet: cli.quiet,
            },
        ),
        Command::Handouts { theme } => cmd::build::worker(&cli.root, &theme),
    }
}
