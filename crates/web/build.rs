//! Prepares the front-end assets embedded in the binary (DECISIONS 1).
//!
//! 1. Runs `npm ci` in `<repo>/web` when `web/node_modules` is missing or
//!    older than `web/package-lock.json` (clear error when npm is absent).
//! 2. Picks the files the pages need from `bootstrap-italia/dist` (CSS, the
//!    JS bundle, the icon sprite, the woff2/woff fonts), adds our own assets
//!    from `crates/web/assets/` and a generated `fonts.css`.
//! 3. Writes `$OUT_DIR/assets.rs`: a table of `include_bytes!` entries, each
//!    with a content hash (cache-busting URL `/static/<hash8>/<path>`), an
//!    ETag, its content type and, for text files, a gzip variant compressed
//!    here once so that serving costs nothing at run time.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

type BuildResult<T> = Result<T, String>;

fn main() {
    if let Err(message) = run() {
        eprintln!("\nerror: palazzo-web build script: {message}\n");
        std::process::exit(1);
    }
}

/// One file served under `/static/`.
struct Asset {
    /// Path below `/static/<hash>/`.
    path: String,
    /// Content.
    bytes: Vec<u8>,
    /// Where `include_bytes!` reads it from (absolute).
    source: PathBuf,
    content_type: &'static str,
}

fn run() -> BuildResult<()> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let repo = manifest_dir
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the repository root from CARGO_MANIFEST_DIR")?;
    let web = repo.join("web");
    let own_assets = manifest_dir.join("assets");

    println!(
        "cargo:rerun-if-changed={}",
        web.join("package.json").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    // npm rewrites this file on every install: a manual `npm install` also rebuilds.
    println!(
        "cargo:rerun-if-changed={}",
        web.join("node_modules/.package-lock.json").display()
    );
    println!("cargo:rerun-if-changed={}", own_assets.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NPM");

    ensure_node_modules(&web)?;

    let dist = web.join("node_modules/bootstrap-italia/dist");
    let bi_version = read_bi_version(&web.join("node_modules/bootstrap-italia/package.json"))?;

    let mut assets = Vec::new();
    for (path, ct) in [
        ("css/bootstrap-italia.min.css", "text/css; charset=utf-8"),
        (
            "js/bootstrap-italia.bundle.min.js",
            "text/javascript; charset=utf-8",
        ),
        ("svg/sprites.svg", "image/svg+xml"),
    ] {
        assets.push(load(&dist.join(path), path.to_owned(), ct)?);
    }

    // Fonts: every woff2/woff of the three families of C.SI.1.1.
    let mut faces = Vec::new();
    for (dir, family, fallback) in [
        ("Titillium_Web", "Titillium Web", "titillium-web"),
        ("Lora", "Lora", "lora"),
        ("Roboto_Mono", "Roboto Mono", "roboto-mono"),
    ] {
        let font_dir = dist.join("fonts").join(dir);
        let mut names: Vec<String> = fs::read_dir(&font_dir)
            .map_err(|e| format!("cannot list {}: {e}", font_dir.display()))?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| name.ends_with(".woff2"))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(format!("no woff2 fonts in {}", font_dir.display()));
        }
        for woff2 in names {
            let stem = woff2.trim_end_matches(".woff2").to_owned();
            let (weight, style) = weight_and_style(&stem)
                .ok_or_else(|| format!("unexpected font file name {woff2} ({fallback})"))?;
            let p2 = format!("fonts/{dir}/{woff2}");
            assets.push(load(&font_dir.join(&woff2), p2.clone(), "font/woff2")?);
            let woff = format!("{stem}.woff");
            let p1 = format!("fonts/{dir}/{woff}");
            let has_woff = font_dir.join(&woff).is_file();
            if has_woff {
                assets.push(load(&font_dir.join(&woff), p1.clone(), "font/woff")?);
            }
            faces.push((family, weight, style, p2, has_woff.then_some(p1)));
        }
    }

    // Our own files.
    for (name, ct) in [
        ("palazzo.css", "text/css; charset=utf-8"),
        ("noscript.css", "text/css; charset=utf-8"),
        ("palazzo.js", "text/javascript; charset=utf-8"),
    ] {
        assets.push(load(&own_assets.join(name), name.to_owned(), ct)?);
    }

    // fonts.css references the fonts by their hashed URLs, so it is built last.
    let mut css = String::from(
        "/* @font-face rules for the fonts of Bootstrap Italia (criterion C.SI.1.1).\n   Generated by crates/web/build.rs. */\n",
    );
    for (family, weight, style, woff2, woff) in &faces {
        let url2 = url_of(&assets, woff2)?;
        let mut src = format!("url(\"{url2}\") format(\"woff2\")");
        if let Some(woff) = woff {
            let url1 = url_of(&assets, woff)?;
            let _ = write!(src, ", url(\"{url1}\") format(\"woff\")");
        }
        let _ = writeln!(
            css,
            "@font-face{{font-family:\"{family}\";font-style:{style};font-weight:{weight};font-display:swap;src:{src}}}"
        );
    }
    let fonts_css = out_dir.join("fonts.css");
    write_file(&fonts_css, css.as_bytes())?;
    assets.push(load(
        &fonts_css,
        "fonts.css".to_owned(),
        "text/css; charset=utf-8",
    )?);

    let code = generate(&assets, &out_dir, &bi_version)?;
    write_file(&out_dir.join("assets.rs"), code.as_bytes())?;
    Ok(())
}

fn env(name: &str) -> BuildResult<String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

fn write_file(path: &Path, bytes: &[u8]) -> BuildResult<()> {
    // Leave unchanged files alone: their mtime drives rebuilds downstream.
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn load(source: &Path, path: String, content_type: &'static str) -> BuildResult<Asset> {
    let bytes = fs::read(source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let source = source
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", source.display()))?;
    Ok(Asset {
        path,
        bytes,
        source,
        content_type,
    })
}

fn hash_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn url_of(assets: &[Asset], path: &str) -> BuildResult<String> {
    let asset = assets
        .iter()
        .find(|a| a.path == path)
        .ok_or_else(|| format!("asset {path} not loaded"))?;
    Ok(format!(
        "/static/{}/{}",
        &hash_hex(&asset.bytes)[..8],
        asset.path
    ))
}

/// `titillium-web-v10-latin-ext_latin-600italic` → (600, italic).
fn weight_and_style(stem: &str) -> Option<(u16, &'static str)> {
    let variant = stem.rsplit('-').next()?;
    let (weight, rest) = match variant {
        "regular" => ("400", ""),
        "italic" => ("400", "italic"),
        v => {
            let digits = v.chars().take_while(char::is_ascii_digit).count();
            v.split_at(digits)
        }
    };
    let style = match rest {
        "" => "normal",
        "italic" => "italic",
        _ => return None,
    };
    Some((weight.parse().ok()?, style))
}

fn read_bi_version(package_json: &Path) -> BuildResult<String> {
    let text = fs::read_to_string(package_json)
        .map_err(|e| format!("cannot read {}: {e}", package_json.display()))?;
    // A tiny scan is enough for `"version": "x.y.z"` and avoids a JSON
    // build-dependency.
    let at = text
        .find("\"version\"")
        .ok_or("no version in bootstrap-italia/package.json")?;
    let rest = &text[at + "\"version\"".len()..];
    let start = rest.find('"').ok_or("malformed version")? + 1;
    let len = rest[start..].find('"').ok_or("malformed version")?;
    let version = rest[start..start + len].to_owned();
    if !version.starts_with("2.") {
        return Err(format!(
            "bootstrap-italia {version} installed, 2.x expected"
        ));
    }
    Ok(version)
}

fn generate(assets: &[Asset], out_dir: &Path, bi_version: &str) -> BuildResult<String> {
    let mut code = String::from("// @generated by crates/web/build.rs — do not edit.\n\n");
    let _ = writeln!(code, "/// Version of the embedded Bootstrap Italia.");
    let _ = writeln!(
        code,
        "pub const BOOTSTRAP_ITALIA_VERSION: &str = {bi_version:?};\n"
    );
    let _ = writeln!(code, "/// Every embedded static file, sorted by path.");
    let _ = writeln!(code, "pub static ASSETS: &[Asset] = &[");
    let mut sorted: Vec<&Asset> = assets.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for asset in sorted {
        let hash = hash_hex(&asset.bytes);
        let compressible = !asset.content_type.starts_with("font/");
        let gzip = if compressible {
            let gz = gzip(&asset.bytes)?;
            // Keep the variant only when it saves at least 10%.
            if gz.len() * 10 < asset.bytes.len() * 9 {
                let name = format!("{}.gz", asset.path.replace('/', "__"));
                let gz_path = out_dir.join(name);
                write_file(&gz_path, &gz)?;
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            } else {
                "None".to_owned()
            }
        } else {
            "None".to_owned()
        };
        let _ = writeln!(
            code,
            "    Asset {{ path: {:?}, hash: {:?}, etag: {:?}, content_type: {:?}, body: include_bytes!({:?}), gzip: {} }},",
            asset.path,
            &hash[..8],
            format!("\"{}\"", &hash[..32]),
            asset.content_type,
            asset.source.display().to_string(),
            gzip,
        );
    }
    let _ = writeln!(code, "];\n");
    let url = |path: &str| url_of(assets, path);
    let _ = writeln!(code, "/// Hashed URLs of the files the page layout links.");
    let _ = writeln!(code, "pub static URLS: AssetUrls = AssetUrls {{");
    for (field, path) in [
        ("bootstrap_css", "css/bootstrap-italia.min.css"),
        ("bootstrap_js", "js/bootstrap-italia.bundle.min.js"),
        ("sprites", "svg/sprites.svg"),
        ("fonts_css", "fonts.css"),
        ("palazzo_css", "palazzo.css"),
        ("noscript_css", "noscript.css"),
        ("palazzo_js", "palazzo.js"),
        (
            "font_regular",
            "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2",
        ),
        (
            "font_bold",
            "fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2",
        ),
    ] {
        let _ = writeln!(code, "    {field}: {:?},", url(path)?);
    }
    let _ = writeln!(code, "}};");
    Ok(code)
}

fn gzip(bytes: &[u8]) -> BuildResult<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| format!("gzip: {e}"))?;
    enc.finish().map_err(|e| format!("gzip: {e}"))
}

// ---------------------------------------------------------------------------
// npm

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn node_modules_fresh(web: &Path) -> bool {
    let modules = web.join("node_modules");
    let Some(lock) = mtime(&web.join("package-lock.json")) else {
        return false;
    };
    let installed = mtime(&modules.join(".package-lock.json")).or_else(|| mtime(&modules));
    let dist_ok = modules
        .join("bootstrap-italia/dist/css/bootstrap-italia.min.css")
        .is_file();
    dist_ok && installed.is_some_and(|t| t >= lock)
}

fn ensure_node_modules(web: &Path) -> BuildResult<()> {
    if node_modules_fresh(web) {
        return Ok(());
    }
    // Two cargo processes (say, `cargo build` and rust-analyzer) may get here
    // at once: serialise `npm ci` with a lock file next to the lockfile.
    let lock_path = web.join(".npm-ci.lock");
    let _guard = LockFile::acquire(&lock_path)?;
    if node_modules_fresh(web) {
        return Ok(());
    }
    let npm: OsString = std::env::var_os("NPM").unwrap_or_else(|| OsString::from("npm"));
    println!(
        "cargo:warning=running `npm ci` in {} (web/node_modules is missing or stale)",
        web.display()
    );
    let status = Command::new(&npm)
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(web)
        .status()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "npm was not found (looked for {npm:?}). Palazzo embeds Bootstrap Italia from \
                     web/package-lock.json and needs Node.js with npm (>= 18) to fetch it: install \
                     Node.js from https://nodejs.org or your distribution (e.g. `apt-get install npm`), \
                     or point the NPM environment variable at the npm executable."
                )
            } else {
                format!("cannot run {npm:?}: {e}")
            }
        })?;
    if !status.success() {
        return Err(format!(
            "`npm ci` in {} failed with {status}",
            web.display()
        ));
    }
    if !node_modules_fresh(web) {
        return Err("`npm ci` finished but web/node_modules is still incomplete".to_owned());
    }
    Ok(())
}

/// A lock file created with `create_new`, removed on drop; a lock older than
/// ten minutes is considered abandoned.
struct LockFile(PathBuf);

impl LockFile {
    fn acquire(path: &Path) -> BuildResult<Self> {
        let started = SystemTime::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => return Ok(LockFile(path.to_owned())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = mtime(path)
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(600));
                    if stale {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if started
                        .elapsed()
                        .is_ok_and(|d| d > Duration::from_secs(900))
                    {
                        return Err(format!("timed out waiting for {}", path.display()));
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
