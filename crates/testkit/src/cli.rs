//! Running the `palazzo` binary the way an operator does, for the tests of
//! the command line: the binary's path comes from the calling test
//! (`env!("CARGO_BIN_EXE_palazzo")`, known only to the binary's own crate).

use std::path::Path;
use std::process::{Command, Output};

use palazzo_services::App;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;

/// Runs `bin` with `args` and the extra environment `env`, quiet logs and
/// no database URL from the caller's environment.
pub fn run_with_env(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin);
    c.args(args)
        .env("RUST_LOG", "warn")
        .env_remove("PALAZZO_DATABASE_URL");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs `bin` with `args` ([`run_with_env`] without extra environment).
pub fn run(bin: &str, args: &[&str]) -> Output {
    run_with_env(bin, args, &[])
}

/// Standard output then standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Opens the SQLite installation in `dir` (`palazzo.db`, `keys/`) as the
/// binary does.
pub async fn open_sqlite(dir: &Path) -> App {
    let db = Db::open_existing(&format!("sqlite:{}", dir.join("palazzo.db").display()))
        .await
        .unwrap();
    App::new(db, KeyStore::new(dir.join("keys"))).await.unwrap()
}

/// A demo installation (`palazzo demo --no-serve`) in a temporary
/// directory, and the commands an operator runs on its comune
/// `casamassima`.
pub struct DemoInstallation {
    /// The installation's directory (removed on drop).
    pub dir: crate::TempDir,
    /// The directory, as the `--data-dir` argument.
    pub data: String,
    bin: String,
}

impl DemoInstallation {
    /// Runs `bin demo --no-serve --residents N --data-dir DIR` in a new
    /// temporary directory named after `label`; panics with the output if
    /// it fails.
    pub fn new(bin: &str, label: &str, residents: u32) -> DemoInstallation {
        let dir = crate::TempDir::new(label);
        let data = dir.path().to_str().unwrap().to_owned();
        let residents = residents.to_string();
        let out = run(
            bin,
            &[
                "demo",
                "--no-serve",
                "--residents",
                &residents,
                "--data-dir",
                &data,
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
        DemoInstallation {
            dir,
            data,
            bin: bin.to_owned(),
        }
    }

    /// Runs the binary with `args` then `--ente casamassima --data-dir DIR`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--ente", "casamassima", "--data-dir", &self.data]);
        run(&self.bin, &all)
    }

    /// A file in the installation's directory, as an argument.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}
