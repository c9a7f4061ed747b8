//! XML canonicalisation over a parsed document (`roxmltree`), for
//! verifying the signature of a received segnatura (XML-DSig §4.4.3,
//! Allegato 6 §3.1 check `001_ValidazioneFirma`).
//!
//! Covers the node-sets a segnatura signature uses: a whole document minus
//! its enveloped `ds:Signature` (`URI=""` + enveloped-signature) and an
//! element subtree by `Id` (`SignedInfo`, `xades:SignedProperties`,
//! `KeyInfo`), in three forms:
//!
//! * Exclusive XML Canonicalization 1.0 (`xml-exc-c14n#`, Palazzo's own
//!   choice), with an optional `InclusiveNamespaces PrefixList`;
//! * Canonical XML 1.0 and 1.1 (inclusive; `xml-c14n11` is signxml's
//!   default). On whole subtrees the two differ only in the `xml:`
//!   attributes an apex inherits, handled for `xml:lang` and `xml:space`.
//!
//! Element and attribute prefixes are taken from the source text (roxmltree
//! resolves names to namespace URIs, c14n writes them as written).

use std::collections::BTreeMap;

use roxmltree::{Document, Node, NodeId};

/// Canonical XML 1.0.
pub(crate) const C14N10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// Canonical XML 1.0 with comments.
pub(crate) const C14N10_COMMENTS: &str =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// Canonical XML 1.1.
pub(crate) const C14N11: &str = "http://www.w3.org/2006/12/xml-c14n11";
/// Canonical XML 1.1 with comments.
pub(crate) const C14N11_COMMENTS: &str = "http://www.w3.org/2006/12/xml-c14n11#WithComments";
/// Exclusive XML Canonicalization 1.0.
pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Exclusive XML Canonicalization 1.0 with comments.
pub(crate) const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// A canonicalisation method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Method {
    /// Exclusive (true) or inclusive.
    pub exclusive: bool,
    /// Keep comments.
    pub comments: bool,
    /// Exclusive only: prefixes treated as inclusive (`#default` for the
    /// default namespace).
    pub inclusive_prefixes: Vec<String>,
}

impl Method {
    /// The method named by an `Algorithm` URI, if supported.
    pub(crate) fn from_uri(uri: &str) -> Option<Method> {
        let (exclusive, comments) = match uri {
            EXC_C14N => (true, false),
            EXC_C14N_COMMENTS => (true, true),
            C14N10 | C14N11 => (false, false),
            C14N10_COMMENTS | C14N11_COMMENTS => (false, true),
            _ => return None,
        };
        Some(Method {
            exclusive,
            comments,
            inclusive_prefixes: Vec::new(),
        })
    }

    /// The default of XML-DSig when a reference's transforms end with a
    /// node-set: Canonical XML 1.0 without comments.
    pub(crate) fn default_for_node_set() -> Method {
        Method {
            exclusive: false,
            comments: false,
            inclusive_prefixes: Vec::new(),
        }
    }
}

/// Canonicalises the subtree at `apex` (an element, or the document root
/// node for a whole document) leaving out the subtree of `exclude`.
/// Comments are never output for the document node (XML-DSig: `URI=""`
/// drops them), nor when `method.comments` is false.
pub(crate) fn canonicalize(
    doc: &Document<'_>,
    apex: Node<'_, '_>,
    exclude: Option<NodeId>,
    method: &Method,
) -> String {
    let mut c = Canon {
        src: doc.input_text(),
        method,
        exclude,
        out: String::new(),
    };
    if apex.is_root() {
        let mut seen_root = false;
        for child in apex.children() {
            if child.is_element() {
                c.element(child, &BTreeMap::new(), true);
                seen_root = true;
            } else if child.is_pi() {
                if seen_root {
                    c.out.push('\n');
                }
                c.pi(child);
                if !seen_root {
                    c.out.push('\n');
                }
            }
        }
    } else {
        c.element(apex, &BTreeMap::new(), true);
    }
    c.out
}

struct Canon<'s, 'm> {
    src: &'s str,
    method: &'m Method,
    exclude: Option<NodeId>,
    out: String,
}

/// The qualified name at the start of `s` (after `<`).
fn qname_at(s: &str) -> &str {
    let end = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(s.len());
    &s[..end]
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

impl Canon<'_, '_> {
    fn element_qname(&self, n: Node<'_, '_>) -> String {
        let r = n.range();
        let start = r.start.saturating_add(1).min(self.src.len());
        qname_at(&self.src[start..]).to_owned()
    }

    /// `rendered`: the namespace declarations in effect in the output
    /// (prefix, "" for the default → URI).
    fn element(&mut self, n: Node<'_, '_>, rendered: &BTreeMap<String, String>, apex: bool) {
        if Some(n.id()) == self.exclude {
            return;
        }
        let qname = self.element_qname(n);
        // In-scope namespaces of this element.
        let mut in_scope: BTreeMap<String, String> = BTreeMap::new();
        for ns in n.namespaces() {
            let p = ns.name().unwrap_or("");
            if p == "xml" {
                continue;
            }
            in_scope.insert(p.to_owned(), ns.uri().to_owned());
        }
        let attrs: Vec<(String, &str, &str, &str)> = n
            .attributes()
            .map(|a| {
                let q = &self.src[a.range_qname()];
                (
                    q.to_owned(),
                    a.namespace().unwrap_or(""),
                    a.name(),
                    a.value(),
                )
            })
            .collect();
        let candidates: Vec<String> = if self.method.exclusive {
            let mut v = vec![prefix_of(&qname).to_owned()];
            for (q, ..) in &attrs {
                let p = prefix_of(q);
                if !p.is_empty() && p != "xml" {
                    v.push(p.to_owned());
                }
            }
            for p in &self.method.inclusive_prefixes {
                let p = if p == "#default" { "" } else { p.as_str() };
                if p.is_empty() || in_scope.contains_key(p) {
                    v.push(p.to_owned());
                }
            }
            v
        } else {
            let mut v: Vec<String> = in_scope.keys().cloned().collect();
            v.push(String::new());
            v
        };
        let mut decls: BTreeMap<String, String> = BTreeMap::new();
        for p in candidates {
            let uri = in_scope.get(&p).cloned().unwrap_or_default();
            let current = rendered.get(&p).map(String::as_str).unwrap_or("");
            let already = if p.is_empty() {
                current == uri
            } else {
                rendered.get(&p) == Some(&uri)
            };
            if !(already || p.is_empty() && uri.is_empty() && current.is_empty()) {
                decls.insert(p, uri);
            }
        }
        let mut now = rendered.clone();
        for (p, u) in &decls {
            now.insert(p.clone(), u.clone());
        }

        // Attributes: by (namespace URI, local name), unqualified first.
        let mut sorted: Vec<(String, String, String, String)> = attrs
            .iter()
            .map(|(q, ns, local, v)| {
                (
                    (*ns).to_owned(),
                    (*local).to_owned(),
                    q.clone(),
                    (*v).to_owned(),
                )
            })
            .collect();
        if apex && !self.method.exclusive {
            // Inclusive c14n of a subtree: the apex inherits the xml:
            // attributes of its ancestors (xml:lang, xml:space).
            for name in ["lang", "space"] {
                let xml_ns = "http://www.w3.org/XML/1998/namespace";
                if sorted.iter().any(|a| a.0 == xml_ns && a.1 == name) {
                    continue;
                }
                if let Some(v) = n
                    .ancestors()
                    .skip(1)
                    .find_map(|a| a.attribute((xml_ns, name)))
                {
                    sorted.push((
                        xml_ns.to_owned(),
                        name.to_owned(),
                        format!("xml:{name}"),
                        v.to_owned(),
                    ));
                }
            }
        }
        sorted.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

        self.out.push('<');
        self.out.push_str(&qname);
        for (p, u) in &decls {
            if p.is_empty() {
                self.out.push_str(" xmlns=\"");
            } else {
                self.out.push_str(" xmlns:");
                self.out.push_str(p);
                self.out.push_str("=\"");
            }
            escape_attr(&mut self.out, u);
            self.out.push('"');
        }
        for (_, _, q, v) in &sorted {
            self.out.push(' ');
            self.out.push_str(q);
            self.out.push_str("=\"");
            escape_attr(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('>');
        for child in n.children() {
            if child.is_element() {
                self.element(child, &now, false);
            } else if child.is_text() {
                escape_text(&mut self.out, child.text().unwrap_or(""));
            } else if child.is_comment() {
                if self.method.comments && self.exclude.is_none() {
                    self.out.push_str("<!--");
                    self.out.push_str(child.text().unwrap_or(""));
                    self.out.push_str("-->");
                }
            } else if child.is_pi() {
                self.pi(child);
            }
        }
        self.out.push_str("</");
        self.out.push_str(&qname);
        self.out.push('>');
    }

    fn pi(&mut self, n: Node<'_, '_>) {
        if let Some(pi) = n.pi() {
            self.out.push_str("<?");
            self.out.push_str(pi.target);
            if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                self.out.push(' ');
                self.out.push_str(v);
            }
            self.out.push_str("?>");
        }
    }
}

fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn exc() -> Method {
        Method::from_uri(EXC_C14N).unwrap()
    }

    fn inc() -> Method {
        Method::from_uri(C14N11).unwrap()
    }

    #[test]
    fn exclusive_renders_only_visibly_used_namespaces() {
        let xml = "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" z=\"1\" b:y='2' a:x=\"3\">\r\n <a:c/><b:d xmlns:a=\"urn:a\">t&amp;&lt;&gt;</b:d><!--c--></a:r>";
        let doc = Document::parse(xml).unwrap();
        let out = canonicalize(&doc, doc.root(), None, &exc());
        assert_eq!(
            out,
            "<a:r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" z=\"1\" a:x=\"3\" b:y=\"2\">\n <a:c></a:c><b:d>t&amp;&lt;&gt;</b:d></a:r>"
        );
        let sub = doc.root_element().last_element_child().unwrap();
        assert_eq!(
            canonicalize(&doc, sub, None, &exc()),
            "<b:d xmlns:b=\"urn:b\">t&amp;&lt;&gt;</b:d>"
        );
        // Inclusive: the apex carries every namespace in scope.
        assert_eq!(
            canonicalize(&doc, sub, None, &inc()),
            "<b:d xmlns:a=\"urn:a\" xmlns:b=\"urn:b\">t&amp;&lt;&gt;</b:d>"
        );
    }

    #[test]
    fn excluded_subtree_and_default_namespace() {
        let xml = "<r xmlns=\"urn:d\"><s><x/></s><e xmlns=\"\">v</e></r>";
        let doc = Document::parse(xml).unwrap();
        let s = doc.root_element().first_element_child().unwrap();
        let out = canonicalize(&doc, doc.root(), Some(s.id()), &exc());
        assert_eq!(out, "<r xmlns=\"urn:d\"><e xmlns=\"\">v</e></r>");
        let out = canonicalize(&doc, doc.root(), None, &inc());
        assert_eq!(
            out,
            "<r xmlns=\"urn:d\"><s><x></x></s><e xmlns=\"\">v</e></r>"
        );
    }
}
