//! A small XML writer whose output is its own Exclusive XML Canonicalization
//! (exc-c14n, <https://www.w3.org/TR/xml-exc-c14n/>).
//!
//! The segnatura is signed over the exc-c14n of the document without its
//! `ds:Signature`. Instead of implementing canonicalisation over an XML
//! tree, the writer only produces documents whose canonical form is the
//! writer's own bytes:
//!
//! * no XML declaration inside the canonical body (the caller prepends it to
//!   the serialised file; c14n drops it), no comments, no processing
//!   instructions, no whitespace between elements;
//! * every element is written as a start and an end tag (`<a></a>`, never
//!   `<a/>`);
//! * namespace declarations are passed explicitly, only where exc-c14n
//!   renders them (the root for `prot:`, the apex of each signed subtree);
//! * attributes are sorted as c14n sorts them: declarations first by
//!   prefix, then attributes by (namespace URI, local name), unqualified
//!   ones first;
//! * text is escaped as c14n escapes it (`&amp; &lt; &gt; &#xD;`),
//!   attribute values likewise (`&amp; &lt; &quot; &#x9; &#xA; &#xD;`), and
//!   characters XML 1.0 forbids are refused.
//!
//! The property is tested against lxml's exc-c14n in
//! `crates/services/tests/segnatura.rs`.

use super::{NS_DS, NS_PEC, NS_PROT, NS_XADES};

/// Writes elements; remembers whether a character XML cannot carry was met.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
    bad_char: bool,
}

fn ns_of(prefix: &str) -> &'static str {
    match prefix {
        "prot" => NS_PROT,
        "ds" => NS_DS,
        "xades" => NS_XADES,
        "pec" => NS_PEC,
        _ => "",
    }
}

/// The c14n sort key of an attribute: declarations first (by prefix), then
/// by namespace URI (unqualified = empty, first) and local name.
fn sort_key(name: &str) -> (u8, &str, &str) {
    if name == "xmlns" {
        return (0, "", "");
    }
    if let Some(p) = name.strip_prefix("xmlns:") {
        return (0, p, "");
    }
    match name.split_once(':') {
        Some((p, local)) => (1, ns_of(p), local),
        None => (1, "", name),
    }
}

/// XML 1.0 `Char` (Rust strings hold no surrogates).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl Writer {
    /// An empty writer.
    pub(crate) fn new() -> Writer {
        Writer::default()
    }

    /// `<name attrs…>`; attributes are put in canonical order here.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut attrs = attrs.to_vec();
        attrs.sort_by(|a, b| sort_key(a.0).cmp(&sort_key(b.0)));
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.attr_value(v);
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs…>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.text(text);
        self.close(name);
    }

    /// Escaped character data.
    pub(crate) fn text(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '\r' => self.out.push_str("&#xD;"),
                c if xml_char(c) => self.out.push(c),
                _ => self.bad_char = true,
            }
        }
    }

    fn attr_value(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '"' => self.out.push_str("&quot;"),
                '\t' => self.out.push_str("&#x9;"),
                '\n' => self.out.push_str("&#xA;"),
                '\r' => self.out.push_str("&#xD;"),
                c if xml_char(c) => self.out.push(c),
                _ => self.bad_char = true,
            }
        }
    }

    /// Appends already written (canonical) XML.
    pub(crate) fn raw(&mut self, xml: &str) {
        self.out.push_str(xml);
    }

    /// The bytes written, or `None` when a text held a character XML 1.0
    /// does not allow (it was left out, so the output must not be used).
    pub(crate) fn finish(self) -> Option<String> {
        (!self.bad_char).then_some(self.out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn escapes_as_c14n() {
        let mut w = Writer::new();
        w.leaf("prot:A", &[("prot:b", "x\"&<>\t\n\r'")], "a&b<c>d\re\t'\"");
        assert_eq!(
            w.finish().unwrap(),
            "<prot:A prot:b=\"x&quot;&amp;&lt;>&#x9;&#xA;&#xD;'\">a&amp;b&lt;c&gt;d&#xD;e\t'\"</prot:A>"
        );
    }

    #[test]
    fn sorts_attributes_as_c14n() {
        let mut w = Writer::new();
        w.open(
            "prot:R",
            &[
                ("prot:versione", "3.0.0"),
                ("Id", "x"),
                ("prot:lang", "it"),
                ("xmlns:prot", NS_PROT),
            ],
        );
        assert_eq!(
            w.finish().unwrap(),
            format!(
                "<prot:R xmlns:prot=\"{NS_PROT}\" Id=\"x\" prot:lang=\"it\" prot:versione=\"3.0.0\">"
            )
        );
    }

    #[test]
    fn refuses_characters_xml_cannot_carry() {
        let mut w = Writer::new();
        w.text("a\u{1}b");
        assert!(w.finish().is_none());
        let mut w = Writer::new();
        w.text("\u{FFFF}");
        assert!(w.finish().is_none());
    }
}
