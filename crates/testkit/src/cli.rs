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
