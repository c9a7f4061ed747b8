//! A local test PKI made with the `openssl` CLI (DECISIONS 14: a local test
//! CA in tests; recipes of `domain/protocol-documents.md` §9.4–9.5), and the
//! independent XML checker `testbeds/xml/segnatura-check.py` (xmlschema on
//! the AgID XSDs, signxml), shared by the segnatura tests of every crate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `openssl` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl CLI on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes, in `dir`, a test CA `<p>-ca.key`/`<p>-ca.crt` and an AOO seal
/// `<p>.key`/`<p>.crt` issued by it (`keyUsage` digitalSignature +
/// nonRepudiation); `alg` is `"ec"` (P-256) or anything else for RSA-2048.
pub fn pki(dir: &Path, p: &str, alg: &str) {
    let newkey: &[&str] = if alg == "ec" {
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    } else {
        &["-newkey", "rsa:2048"]
    };
    let (ca_key, ca_crt, key, csr, crt, ext) = (
        format!("{p}-ca.key"),
        format!("{p}-ca.crt"),
        format!("{p}.key"),
        format!("{p}.csr"),
        format!("{p}.crt"),
        format!("{p}.ext"),
    );
    let mut ca = vec!["req", "-x509", "-new"];
    ca.extend_from_slice(newkey);
    let subj = format!("/CN=CA di prova {p}");
    ca.extend_from_slice(&[
        "-nodes",
        "-keyout",
        &ca_key,
        "-out",
        &ca_crt,
        "-days",
        "3650",
        "-subj",
        &subj,
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut req = vec!["req", "-new"];
    req.extend_from_slice(newkey);
    let subj = format!("/CN=Sigillo AOO {p}/O=Comune {p}/C=IT");
    req.extend_from_slice(&["-nodes", "-keyout", &key, "-out", &csr, "-subj", &subj]);
    openssl(dir, &req);
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "365",
            "-extfile",
            &ext,
        ],
    );
}

/// The python of the XML testbed venv (`PALAZZO_XML_PYTHON`, exported by
/// `scripts/test`); panics when unset: these tests never skip.
pub fn xml_python() -> String {
    std::env::var("PALAZZO_XML_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PALAZZO_XML_PYTHON is not set: run the tests through scripts/test, or \
             export PALAZZO_XML_PYTHON=$(bash testbeds/xml/setup.sh)"
        )
    })
}

/// The python of the PDF testbed venv with pikepdf and pypdf
/// (`PALAZZO_PDF_PYTHON`, exported by `scripts/test`); panics when unset:
/// the PDF/A checks never skip.
pub fn pdf_python() -> String {
    std::env::var("PALAZZO_PDF_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PALAZZO_PDF_PYTHON is not set: the PDF/A checks need pikepdf and pypdf; run the \
             tests through scripts/test, or export PALAZZO_PDF_PYTHON=$(bash testbeds/pdf/setup.sh)"
        )
    })
}

/// pyHanko's validation of the PAdES signature of the PDF at `pdf` with
/// the CA certificate (PEM file) `ca` as the only trust root, no
/// revocation check (domain doc protocol-documents.md §9.3; the CLI of the
/// seal testbed venv, `PALAZZO_SEAL_PYTHON`): (exit success, stdout and
/// stderr). pyHanko 0.38 prints `<field>:<signer sha256>:INTACT:TRUSTED,UNTOUCHED`
/// for a valid signature over the whole file, `…:INVALID` for changed
/// bytes, `…:INTACT:UNTRUSTED,…` for another root.
pub fn pyhanko_validate(pdf: &Path, ca: &Path) -> (bool, String) {
    let python = std::env::var("PALAZZO_SEAL_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PALAZZO_SEAL_PYTHON is not set: run the tests through scripts/test, or \
             export PALAZZO_SEAL_PYTHON=$(bash testbeds/seal/setup.sh)"
        )
    });
    let cli = Path::new(&python).with_file_name("pyhanko");
    let out = Command::new(&cli)
        .args([
            "sign",
            "validate",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(ca)
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("{} (scripts/test installs it): {e}", cli.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "pyhanko crashed: {text}"
    );
    (out.status.success(), text)
}

/// Runs `testbeds/xml/segnatura-check.py ARGS`: (passed, stdout). Panics
/// when the checker crashes (exit code above 1).
pub fn segnatura_check(args: &[&str]) -> (bool, String) {
    let out = Command::new(xml_python())
        .arg(repo().join("testbeds/xml/segnatura-check.py"))
        .args(args)
        .output()
        .expect("run segnatura-check.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "segnatura-check.py {args:?} crashed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

/// The path of an AgID schema kept in `testbeds/xml/schemas`.
pub fn xsd(name: &str) -> String {
    repo()
        .join("testbeds/xml/schemas")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Writes `xml` to `dir/name` and asserts it is valid against `schema`.
pub fn assert_valid(dir: &Path, name: &str, xml: &str, schema: &str) {
    let f = dir.join(name);
    std::fs::write(&f, xml).unwrap();
    let (ok, out) = segnatura_check(&["validate", f.to_str().unwrap(), "--xsd", &xsd(schema)]);
    assert!(ok, "{name} not valid against {schema}: {out}\n{xml}");
}
