//! The QR code of a PZ1 text (R1): alphanumeric mode, ECC level Q,
//! version at most 20, drawn as vector rectangles in the PDF (domain doc
//! §4, "Barcode in the PDF") with a 4-module quiet zone.

use fast_qr::{ECL, Mode, QRBuilder};

use crate::SealError;

/// The quiet zone around the symbol, in modules (ISO/IEC 18004 §6.3.8).
pub const QUIET_ZONE: usize = 4;
/// The largest QR version a seal may use (R1): 97 × 97 modules.
pub const MAX_VERSION: usize = 20;

/// The modules of a QR code, row by row, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    size: usize,
    dark: Vec<bool>,
}

/// A horizontal run of dark modules: `width` modules from column `x` in
/// row `y` (module units, origin at the top-left module of the symbol,
/// quiet zone excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// First column.
    pub x: usize,
    /// Row.
    pub y: usize,
    /// Number of modules.
    pub width: usize,
}

/// Encodes a PZ1 text (or any text in the QR alphanumeric set) as a QR code
/// in alphanumeric mode at ECC level Q, in the smallest version that holds
/// it.
///
/// # Errors
/// [`SealError::Invalid`] when the text has characters outside the
/// alphanumeric set or needs a version above [`MAX_VERSION`].
pub fn encode(text: &str) -> Result<QrMatrix, SealError> {
    if !text.bytes().all(|c| crate::base45::ALPHABET.contains(&c)) {
        return Err(SealError::Invalid("text outside the QR alphanumeric set"));
    }
    let qr = QRBuilder::new(text.as_bytes())
        .ecl(ECL::Q)
        .mode(Mode::Alphanumeric)
        .build()
        .map_err(|_| SealError::Invalid("text too long for a QR code"))?;
    let size = qr.size;
    if size > 17 + 4 * MAX_VERSION {
        return Err(SealError::Invalid("text needs a QR version above 20"));
    }
    let dark = qr
        .data
        .get(..size * size)
        .ok_or(SealError::Invalid("QR matrix"))?
        .iter()
        .map(|m| m.value())
        .collect();
    Ok(QrMatrix { size, dark })
}

impl QrMatrix {
    /// Modules per side (21 for version 1, 97 for version 20).
    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    /// The QR version (1–40).
    #[must_use]
    pub fn version(&self) -> usize {
        (self.size - 17) / 4
    }

    /// Every module, row by row (`size × size`, true = dark): what
    /// `palazzo_pdf::certificate::QrMatrix::new` takes.
    #[must_use]
    pub fn modules(&self) -> &[bool] {
        &self.dark
    }

    /// Whether the module at column `x`, row `y` is dark (false outside).
    #[must_use]
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark.get(y * self.size + x).copied().unwrap_or(false)
    }

    /// Each horizontal run of dark modules, row by row, left to right: one
    /// rectangle each in a vector drawing.
    #[must_use]
    pub fn dark_runs(&self) -> Vec<Run> {
        let mut runs = Vec::with_capacity(self.size * self.size / 4);
        for (y, row) in self.dark.chunks_exact(self.size).enumerate() {
            let mut x = 0;
            while x < row.len() {
                if row[x] {
                    let start = x;
                    while x < row.len() && row[x] {
                        x += 1;
                    }
                    runs.push(Run {
                        x: start,
                        y,
                        width: x - start,
                    });
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// A binary PGM (P5) image of the symbol with its quiet zone, `scale`
    /// pixels per module (for tests and independent decoders).
    #[must_use]
    pub fn to_pgm(&self, scale: usize) -> Vec<u8> {
        let side = (self.size + 2 * QUIET_ZONE) * scale;
        let mut out = format!("P5\n{side} {side}\n255\n").into_bytes();
        out.reserve(side * side);
        for py in 0..side {
            for px in 0..side {
                let (x, y) = (px / scale, py / scale);
                let dark = x >= QUIET_ZONE
                    && y >= QUIET_ZONE
                    && self.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
                out.push(if dark { 0 } else { 255 });
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let qr = encode("PZ1:HELLO WORLD 123").unwrap();
        // 19 alphanumeric characters: more than version 1 holds at level Q (16).
        assert_eq!(qr.version(), 2);
        assert_eq!(qr.size(), 25);
        let mut covered = vec![false; qr.size() * qr.size()];
        for r in qr.dark_runs() {
            assert!(r.width > 0);
            // Runs are maximal: the modules either side are light.
            assert!(r.x == 0 || !qr.is_dark(r.x - 1, r.y));
            assert!(!qr.is_dark(r.x + r.width, r.y));
            for x in r.x..r.x + r.width {
                covered[r.y * qr.size() + x] = true;
            }
        }
        for y in 0..qr.size() {
            for x in 0..qr.size() {
                assert_eq!(covered[y * qr.size() + x], qr.is_dark(x, y));
                assert_eq!(qr.modules()[y * qr.size() + x], qr.is_dark(x, y));
            }
        }
        assert_eq!(qr.modules().len(), qr.size() * qr.size());
        // The finder pattern: the top-left 7×7 has a dark border.
        assert!((0..7).all(|i| qr.is_dark(i, 0) && qr.is_dark(0, i) && qr.is_dark(6, i)));
        assert!(!qr.is_dark(1, 1));
    }

    #[test]
    fn version_20_is_the_limit() {
        // 700 characters fit version 20 at level Q; much more does not.
        let text = format!("PZ1:{}", "A".repeat(696));
        let qr = encode(&text).unwrap();
        assert!(qr.version() <= MAX_VERSION, "version {}", qr.version());
        assert!(encode(&"A".repeat(1200)).is_err());
        assert!(encode("pz1:lower").is_err());
    }

    #[test]
    fn pgm_has_quiet_zone() {
        let qr = encode("PZ1:ABC").unwrap();
        let pgm = qr.to_pgm(3);
        let header = format!("P5\n{0} {0}\n255\n", (21 + 8) * 3);
        assert!(pgm.starts_with(header.as_bytes()));
        let px = &pgm[header.len()..];
        assert_eq!(px.len(), 87 * 87);
        assert!(px[..87 * 12].iter().all(|&p| p == 255));
        assert_eq!(px[87 * 12 + 12], 0);
    }
}
