//! SPID/CIE authentication levels (`acr` values). CIE uses the same URIs as SPID.

use std::fmt;
use std::str::FromStr;

/// An authentication level, ordered from weakest to strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AcrLevel {
    /// `https://www.spid.gov.it/SpidL1`: single factor.
    SpidL1,
    /// `https://www.spid.gov.it/SpidL2`: two factors.
    SpidL2,
    /// `https://www.spid.gov.it/SpidL3`: two factors with a hardware device.
    SpidL3,
}

impl AcrLevel {
    /// All levels, weakest first.
    pub const ALL: [Self; 3] = [Self::SpidL1, Self::SpidL2, Self::SpidL3];

    /// The `acr` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::SpidL1 => "https://www.spid.gov.it/SpidL1",
            Self::SpidL2 => "https://www.spid.gov.it/SpidL2",
            Self::SpidL3 => "https://www.spid.gov.it/SpidL3",
        }
    }

    /// Space-separated `acr_values` for the given levels, weakest first and strongest last
    /// (the spid-cie-oidc OP puts the **last** requested value in the ID token).
    pub fn acr_values(levels: &[Self]) -> String {
        let mut v = levels.to_vec();
        v.sort();
        v.dedup();
        v.iter().map(|l| l.uri()).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for AcrLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// The value is not a known SPID/CIE `acr` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown acr value")]
pub struct UnknownAcr;

impl UnknownAcr {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        "identity.acr.unknown"
    }

    /// Italian message for users.
    pub fn message_it(&self) -> &'static str {
        "Il livello di autenticazione indicato dal gestore dell'identità non è riconosciuto."
    }
}

impl FromStr for AcrLevel {
    type Err = UnknownAcr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.uri() == s)
            .ok_or(UnknownAcr)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ordered_parsed_and_displayed() {
        assert!(AcrLevel::SpidL1 < AcrLevel::SpidL2 && AcrLevel::SpidL2 < AcrLevel::SpidL3);
        for l in AcrLevel::ALL {
            assert_eq!(l.to_string().parse::<AcrLevel>().unwrap(), l);
        }
        assert_eq!(
            "https://www.spid.gov.it/SpidL4".parse::<AcrLevel>(),
            Err(UnknownAcr)
        );
        assert_eq!(
            "https://www.spid.gov.it/spidl2".parse::<AcrLevel>(),
            Err(UnknownAcr)
        );
        assert_eq!(
            AcrLevel::acr_values(&[AcrLevel::SpidL2, AcrLevel::SpidL1, AcrLevel::SpidL2]),
            "https://www.spid.gov.it/SpidL1 https://www.spid.gov.it/SpidL2"
        );
    }
}
