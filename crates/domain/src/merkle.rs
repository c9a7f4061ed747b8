//! RFC 6962 / RFC 9162 Merkle tree hashing for the ledger (DECISIONS 11–13).
//!
//! * Leaf hash: `SHA-256(0x00 ‖ leaf bytes)` (RFC 6962 §2.1, RFC 9162 §2.1.1).
//! * Interior node: `SHA-256(0x01 ‖ left ‖ right)`.
//! * The root of the empty tree is `SHA-256("")`.
//! * For `n > 1` leaves the tree splits at `k`, the largest power of two
//!   strictly less than `n`: `MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))`.
//!
//! Proof generation follows RFC 6962 §2.1.1 (`PATH`) and §2.1.2
//! (`PROOF`/`SUBPROOF`); verification follows the algorithms of RFC 9162
//! §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
//!
//! Every function here works on **leaf hashes** (already passed through
//! [`leaf_hash`]), never on raw leaf bytes, so a caller cannot mix the two.
//!
//! [`CompactRange`] is the "frontier" of a tree: the roots of its perfect
//! subtrees. It is enough to append new leaves and compute every later root
//! without reading the old leaves again.

use sha2::{Digest, Sha256};

use crate::Coded;

/// A SHA-256 digest: a leaf hash, an interior node or a tree root.
pub type Hash = [u8; 32];

/// Length of a [`Hash`](type@Hash) in bytes.
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix of leaf hashes (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior nodes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// The hash of a leaf: `SHA-256(0x00 ‖ data)` (RFC 6962 §2.1).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)` (RFC 6962 §2.1).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")` =
/// `e3b0c442…7852b855` (RFC 6962 §2.1, `MTH({})`).
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly less than `n`; `n` must be at least 2.
fn split_point(n: usize) -> usize {
    // For n >= 2, n - 1 >= 1 has a highest set bit; that bit is the answer.
    let highest = usize::BITS - 1 - (n - 1).leading_zeros();
    1usize << highest
}

/// The Merkle tree hash `MTH` of the given leaf hashes (RFC 6962 §2.1).
///
/// `root(&[])` is [`empty_root`]; `root(&[h])` is `h`.
#[must_use]
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let (left, right) = leaves.split_at(split_point(leaves.len()));
            node_hash(&root(left), &root(right))
        }
    }
}

/// Why a proof could not be produced or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Leaf index asked for.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A proof was requested for a tree larger than the leaves supplied.
    #[error("tree size {size} exceeds the {available} leaves available")]
    SizeExceedsLeaves {
        /// Tree size asked for.
        size: u64,
        /// Leaves supplied.
        available: u64,
    },
    /// A consistency proof from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder {
        /// Old (first) tree size.
        old_size: u64,
        /// New (second) tree size.
        new_size: u64,
    },
    /// The proof has too many or too few hashes for the sizes given.
    #[error("proof has the wrong number of hashes")]
    ProofLength,
    /// The root computed from an inclusion proof (or, for two trees of the
    /// same size, the two roots) differ.
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// A consistency proof does not reproduce the old root.
    #[error("consistency proof does not match the old root")]
    OldRootMismatch,
    /// A consistency proof does not reproduce the new root.
    #[error("consistency proof does not match the new root")]
    NewRootMismatch,
}

impl Coded for ProofError {
    fn code(&self) -> &'static str {
        match self {
            ProofError::IndexOutOfRange { .. } => "merkle_index_out_of_range",
            ProofError::SizeExceedsLeaves { .. } => "merkle_size_exceeds_leaves",
            ProofError::SizeOrder { .. } => "merkle_size_order",
            ProofError::ProofLength => "merkle_proof_length",
            ProofError::RootMismatch => "merkle_root_mismatch",
            ProofError::OldRootMismatch => "merkle_old_root_mismatch",
            ProofError::NewRootMismatch => "merkle_new_root_mismatch",
        }
    }

    fn message_it(&self) -> String {
        match self {
            ProofError::IndexOutOfRange { index, size } => {
                format!("La posizione {index} non è compresa nel registro di {size} voci")
            }
            ProofError::SizeExceedsLeaves { size, available } => {
                format!("Il registro richiesto di {size} voci supera le {available} voci disponibili")
            }
            ProofError::SizeOrder { old_size, new_size } => format!(
                "Il registro precedente ({old_size} voci) è più grande di quello successivo ({new_size} voci)"
            ),
            ProofError::ProofLength => "La prova ha un numero errato di elementi".to_owned(),
            ProofError::RootMismatch => {
                "La prova non corrisponde alla radice del registro: il dato è stato alterato o non è presente".to_owned()
            }
            ProofError::OldRootMismatch => {
                "La prova di coerenza non corrisponde alla radice precedente: il registro è stato alterato".to_owned()
            }
            ProofError::NewRootMismatch => {
                "La prova di coerenza non corrisponde alla radice attuale: il registro è stato alterato".to_owned()
            }
        }
    }
}

/// `leaves[..size]`, checking `size` against the slice.
fn prefix(leaves: &[Hash], size: u64) -> Result<&[Hash], ProofError> {
    let available = u64::try_from(leaves.len()).unwrap_or(u64::MAX);
    usize::try_from(size)
        .ok()
        .and_then(|n| leaves.get(..n))
        .ok_or(ProofError::SizeExceedsLeaves { size, available })
}

/// The inclusion proof (audit path) of leaf `index` in the tree made of the
/// first `size` of `leaves` (RFC 6962 §2.1.1 `PATH(m, D[n])`), ordered from
/// the leaf's sibling up to the child of the root.
///
/// # Errors
/// [`ProofError::SizeExceedsLeaves`] when `size > leaves.len()`;
/// [`ProofError::IndexOutOfRange`] when `index >= size`.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    let tree = prefix(leaves, size)?;
    let m = usize::try_from(index)
        .ok()
        .filter(|&m| m < tree.len())
        .ok_or(ProofError::IndexOutOfRange { index, size })?;
    let mut out = Vec::new();
    path(m, tree, &mut out);
    Ok(out)
}

/// RFC 6962 §2.1.1: `PATH(m, D[n])`; appends bottom-up.
fn path(m: usize, tree: &[Hash], out: &mut Vec<Hash>) {
    if tree.len() <= 1 {
        return;
    }
    let k = split_point(tree.len());
    let (left, right) = tree.split_at(k);
    if m < k {
        path(m, left, out);
        out.push(root(right));
    } else {
        path(m - k, right, out);
        out.push(root(left));
    }
}

/// The root that an inclusion proof yields for `leaf_hash` at `index` in a
/// tree of `size` leaves (RFC 9162 §2.1.3.2, steps 1–5 without the final
/// comparison).
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] or [`ProofError::ProofLength`].
pub fn inclusion_root(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    // Step 1: the index must be inside the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Steps 2–3.
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        // 4a: a proof longer than the path is invalid.
        if sn == 0 {
            return Err(ProofError::ProofLength);
        }
        // 4b.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5 (first half): the proof must reach the root.
    if sn != 0 {
        return Err(ProofError::ProofLength);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
///
/// The proof authenticates the leaf and its index against `root`; the pair
/// (`size`, `root`) must itself come from one signed checkpoint: two sizes
/// whose paths have the same shape (e.g. index 0 in trees of 3 and 4
/// leaves) accept the same proof against the same root.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::ProofLength`] or
/// [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = inclusion_root(leaf_hash, index, size, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// The consistency proof between the tree of the first `old_size` leaves and
/// the tree of the first `new_size` leaves (RFC 6962 §2.1.2
/// `PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`).
///
/// When `old_size` is 0 or equal to `new_size` the proof is empty (see
/// [`verify_consistency`]).
///
/// # Errors
/// [`ProofError::SizeExceedsLeaves`] when `new_size > leaves.len()`;
/// [`ProofError::SizeOrder`] when `old_size > new_size`.
pub fn consistency_proof(
    leaves: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    let tree = prefix(leaves, new_size)?;
    if old_size > new_size {
        return Err(ProofError::SizeOrder { old_size, new_size });
    }
    let mut out = Vec::new();
    if old_size == 0 || old_size == new_size {
        return Ok(out);
    }
    // old_size < new_size = tree.len() <= usize::MAX, so it fits.
    let m = usize::try_from(old_size).map_err(|_| ProofError::SizeOrder { old_size, new_size })?;
    subproof(m, tree, true, &mut out);
    Ok(out)
}

/// RFC 6962 §2.1.2 `SUBPROOF(m, D[n], b)`, for `1 <= m <= n`; appends
/// bottom-up.
fn subproof(m: usize, tree: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    if m == tree.len() {
        if !whole {
            out.push(root(tree));
        }
        return;
    }
    // m < n and m >= 1, so n >= 2.
    let k = split_point(tree.len());
    let (left, right) = tree.split_at(k);
    if m <= k {
        subproof(m, left, whole, out);
        out.push(root(right));
    } else {
        subproof(m - k, right, false, out);
        out.push(root(left));
    }
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends
/// the tree of `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2).
///
/// Edge cases, which RFC 9162 leaves to the application:
/// * `old_size > new_size`: [`ProofError::SizeOrder`].
/// * `old_size == 0`: every tree extends the empty tree. The proof must be
///   empty and `old_root` must be [`empty_root`] (otherwise
///   [`ProofError::OldRootMismatch`]); `new_root` is not constrained unless
///   `new_size` is 0 too, in which case it must also be [`empty_root`].
/// * `old_size == new_size` (> 0): the proof must be empty and the two
///   roots equal (otherwise [`ProofError::RootMismatch`]).
///
/// # Errors
/// As above, and [`ProofError::ProofLength`], [`ProofError::OldRootMismatch`]
/// or [`ProofError::NewRootMismatch`] for a proof that does not verify.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::ProofLength);
        }
        let empty = empty_root();
        if old_root != &empty {
            return Err(ProofError::OldRootMismatch);
        }
        if new_size == 0 && new_root != &empty {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::ProofLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // Step 1: an empty proof cannot link two different non-empty trees.
    if proof.is_empty() {
        return Err(ProofError::ProofLength);
    }
    // Step 2: when the old size is an exact power of two, its root is the
    // first node of the path and is not sent in the proof.
    let mut path = proof.iter();
    let first = if old_size.is_power_of_two() {
        *old_root
    } else {
        match path.next() {
            Some(h) => *h,
            None => return Err(ProofError::ProofLength),
        }
    };
    // Step 3.
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    // Step 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = first;
    let mut sr = first;
    // Step 6.
    for c in path {
        // 6a.
        if sn == 0 {
            return Err(ProofError::ProofLength);
        }
        // 6b.
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // 6c.
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(ProofError::ProofLength);
    }
    if &fr != old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if &sr != new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// Why a [`CompactRange`] could not be built or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompactRangeError {
    /// The number of peaks does not match the size, or the serialised bytes
    /// have the wrong length.
    #[error("malformed compact range")]
    Malformed,
    /// The tree already holds `u64::MAX` leaves.
    #[error("the tree is full")]
    Full,
}

impl Coded for CompactRangeError {
    fn code(&self) -> &'static str {
        match self {
            CompactRangeError::Malformed => "merkle_compact_range_malformed",
            CompactRangeError::Full => "merkle_tree_full",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CompactRangeError::Malformed => {
                "Lo stato salvato dell'albero di Merkle non è valido".to_owned()
            }
            CompactRangeError::Full => {
                "Il registro ha raggiunto il numero massimo di voci".to_owned()
            }
        }
    }
}

/// The frontier of a Merkle tree of `size` leaves: the roots of its perfect
/// subtrees ("peaks"), left to right, one per set bit of `size` from the
/// most significant (so a tree of 6 leaves has two peaks, over leaves 0–3
/// and 4–5).
///
/// It lets the store extend the tree and compute its root without reading
/// the old leaves: persist [`CompactRange::to_bytes`] with each checkpoint,
/// load it with [`CompactRange::from_bytes`], [`append`](CompactRange::append)
/// the new leaf hashes, and [`root`](CompactRange::root) equals
/// [`root`](fn@root) over all leaves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    /// The frontier of the empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the tree over `leaves` (leaf hashes).
    ///
    /// # Errors
    /// [`CompactRangeError::Full`] only for more than `u64::MAX` leaves.
    pub fn from_leaves(leaves: &[Hash]) -> Result<Self, CompactRangeError> {
        let mut range = Self::new();
        for leaf in leaves {
            range.append(*leaf)?;
        }
        Ok(range)
    }

    /// A frontier from its parts, checking that there is exactly one peak
    /// per set bit of `size`.
    ///
    /// # Errors
    /// [`CompactRangeError::Malformed`] when the count is wrong.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, CompactRangeError> {
        if usize::try_from(size.count_ones()).ok() != Some(peaks.len()) {
            return Err(CompactRangeError::Malformed);
        }
        Ok(Self { size, peaks })
    }

    /// The number of leaves in the tree.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks, left to right (largest subtree first).
    #[must_use]
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends one leaf hash and returns its index (the size before the
    /// append).
    ///
    /// # Errors
    /// [`CompactRangeError::Full`] when the tree holds `u64::MAX` leaves.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, CompactRangeError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(CompactRangeError::Full)?;
        // Each trailing 1 bit of the old size is a perfect subtree of the
        // same height as the one being built: merge them, right to left.
        let mut carry = leaf_hash;
        let mut bits = index;
        while bits & 1 == 1 {
            let left = self.peaks.pop().ok_or(CompactRangeError::Malformed)?;
            carry = node_hash(&left, &carry);
            bits >>= 1;
        }
        self.peaks.push(carry);
        self.size = new_size;
        Ok(index)
    }

    /// The root of the tree: the peaks folded right to left, which is the
    /// RFC 6962 split at the largest power of two applied recursively.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*last, |acc, peak| node_hash(peak, &acc))
    }

    /// Serialises the frontier: the size as 8 bytes big-endian, then each
    /// peak's 32 bytes, left to right (`8 + 32 × popcount(size)` bytes).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + HASH_LEN * self.peaks.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for peak in &self.peaks {
            out.extend_from_slice(peak);
        }
        out
    }

    /// Parses the output of [`CompactRange::to_bytes`].
    ///
    /// # Errors
    /// [`CompactRangeError::Malformed`] when the length does not match the
    /// size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CompactRangeError> {
        let (size_bytes, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(CompactRangeError::Malformed)?;
        let size = u64::from_be_bytes(*size_bytes);
        let (chunks, remainder) = rest.as_chunks::<HASH_LEN>();
        if !remainder.is_empty() {
            return Err(CompactRangeError::Malformed);
        }
        Self::from_parts(size, chunks.to_vec())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn h(s: &str) -> Hash {
        unhex(s).try_into().unwrap()
    }

    /// The leaves of protocol-documents.md §10.2 (transparency-dev/merkle
    /// `reference_test.go`).
    fn kat_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|l| leaf_hash(&unhex(l)))
        .collect()
    }

    const KAT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn kat_root(size: usize) -> Hash {
        h(KAT_ROOTS[size])
    }

    #[test]
    fn log1_known_answer_roots() {
        let leaves = kat_leaves();
        assert_eq!(empty_root(), kat_root(0));
        for size in 0..=8 {
            assert_eq!(root(&leaves[..size]), kat_root(size), "root of size {size}");
            let range = CompactRange::from_leaves(&leaves[..size]).unwrap();
            assert_eq!(
                range.root(),
                kat_root(size),
                "compact range root of size {size}"
            );
        }
    }

    #[test]
    fn log1_known_answer_inclusion_proofs() {
        let leaves = kat_leaves();
        let cases: [(u64, u64, &[&str]); 2] = [
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                0,
                2,
                &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
            ),
        ];
        for (index, size, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(
                inclusion_proof(&leaves, index, size).unwrap(),
                expected,
                "proof ({index}, {size})"
            );
            let leaf = leaves[usize::try_from(index).unwrap()];
            verify_inclusion(
                &leaf,
                index,
                size,
                &expected,
                &kat_root(usize::try_from(size).unwrap()),
            )
            .unwrap();
        }
        // Size 1: the proof is empty and the root is the leaf.
        assert!(inclusion_proof(&leaves, 0, 1).unwrap().is_empty());
        verify_inclusion(&leaves[0], 0, 1, &[], &kat_root(1)).unwrap();
    }

    #[test]
    fn log1_known_answer_consistency_proofs() {
        let leaves = kat_leaves();
        let cases: [(u64, &[&str]); 4] = [
            (
                1,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                3,
                &[
                    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                4,
                &["6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
            ),
            (
                6,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (old, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|s| h(s)).collect();
            assert_eq!(
                consistency_proof(&leaves, old, 8).unwrap(),
                expected,
                "proof {old} -> 8"
            );
            verify_consistency(
                old,
                8,
                &kat_root(usize::try_from(old).unwrap()),
                &kat_root(8),
                &expected,
            )
            .unwrap();
        }
    }

    #[test]
    fn consistency_edge_cases() {
        let leaves = kat_leaves();
        let r0 = kat_root(0);
        let r5 = kat_root(5);
        // Old size 0: empty proof; the old root must be the empty root.
        assert!(consistency_proof(&leaves, 0, 5).unwrap().is_empty());
        verify_consistency(0, 5, &r0, &r5, &[]).unwrap();
        assert_eq!(
            verify_consistency(0, 5, &r5, &r5, &[]),
            Err(ProofError::OldRootMismatch)
        );
        assert_eq!(
            verify_consistency(0, 5, &r0, &r5, &[r0]),
            Err(ProofError::ProofLength)
        );
        verify_consistency(0, 0, &r0, &r0, &[]).unwrap();
        assert_eq!(
            verify_consistency(0, 0, &r0, &r5, &[]),
            Err(ProofError::NewRootMismatch)
        );
        // Equal sizes: empty proof, equal roots.
        assert!(consistency_proof(&leaves, 5, 5).unwrap().is_empty());
        verify_consistency(5, 5, &r5, &r5, &[]).unwrap();
        assert_eq!(
            verify_consistency(5, 5, &r5, &r0, &[]),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(5, 5, &r5, &r5, &[r5]),
            Err(ProofError::ProofLength)
        );
        // Wrong order, empty proof between different sizes, sizes beyond the leaves.
        assert_eq!(
            consistency_proof(&leaves, 6, 5),
            Err(ProofError::SizeOrder {
                old_size: 6,
                new_size: 5
            })
        );
        assert_eq!(
            verify_consistency(6, 5, &r5, &r5, &[]),
            Err(ProofError::SizeOrder {
                old_size: 6,
                new_size: 5
            })
        );
        assert_eq!(
            verify_consistency(3, 5, &kat_root(3), &r5, &[]),
            Err(ProofError::ProofLength)
        );
        assert_eq!(
            consistency_proof(&leaves, 1, 9),
            Err(ProofError::SizeExceedsLeaves {
                size: 9,
                available: 8
            })
        );
        assert_eq!(
            inclusion_proof(&leaves, 8, 8),
            Err(ProofError::IndexOutOfRange { index: 8, size: 8 })
        );
        assert_eq!(
            verify_inclusion(&leaves[0], 3, 3, &[], &r0),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
    }

    /// The proof authenticates (leaf, index) against a root; the size is
    /// authenticated by the checkpoint that binds it to that root. This pins
    /// the documented caveat of `verify_inclusion`.
    #[test]
    fn size_is_bound_by_the_checkpoint_not_by_the_proof() {
        let leaves = kat_leaves();
        let proof3 = inclusion_proof(&leaves, 0, 3).unwrap();
        verify_inclusion(&leaves[0], 0, 4, &proof3, &kat_root(3)).unwrap();
        // Against the real root of size 4 it fails, as it must.
        assert_eq!(
            verify_inclusion(&leaves[0], 0, 4, &proof3, &kat_root(4)),
            Err(ProofError::RootMismatch)
        );
    }

    /// Distinct pseudo-random leaf hashes.
    fn make_leaves(n: usize, seed: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| {
                let mut data = seed.to_be_bytes().to_vec();
                data.extend_from_slice(&u64::try_from(i).unwrap().to_be_bytes());
                leaf_hash(&data)
            })
            .collect()
    }

    fn flip(hash: &Hash, byte: usize) -> Hash {
        let mut out = *hash;
        out[byte % HASH_LEN] ^= 1 << (byte % 8);
        out
    }

    /// Every proof byte flipped, one at a time, and a proof with one hash
    /// removed or added: all must fail.
    fn assert_proof_mutations_fail(proof: &[Hash], verify: impl Fn(&[Hash]) -> bool) {
        for i in 0..proof.len() {
            for byte in 0..HASH_LEN {
                let mut bad = proof.to_vec();
                bad[i] = flip(&bad[i], byte);
                assert!(!verify(&bad), "flipped byte {byte} of hash {i} accepted");
            }
            let mut shorter = proof.to_vec();
            shorter.remove(i);
            assert!(!verify(&shorter), "proof without hash {i} accepted");
        }
        let mut longer = proof.to_vec();
        longer.push(empty_root());
        assert!(!verify(&longer), "proof with an extra hash accepted");
    }

    /// LOG-2 for one tree: prove → verify for the given indices, and every
    /// mutation fails. `roots[s]` is the root of the first `s` leaves
    /// (`leaves` holds at least `2n` leaves so larger sizes can be tried).
    fn check_inclusion(leaves: &[Hash], roots: &[Hash], n: usize, indices: &[usize]) {
        let size = u64::try_from(n).unwrap();
        let root_n = roots[n];
        for &i in indices {
            let index = u64::try_from(i).unwrap();
            let proof = inclusion_proof(leaves, index, size).unwrap();
            verify_inclusion(&leaves[i], index, size, &proof, &root_n).unwrap();
            // Proof bytes.
            assert_proof_mutations_fail(&proof, |p| {
                verify_inclusion(&leaves[i], index, size, p, &root_n).is_ok()
            });
            // The leaf.
            for byte in [0, 13, 31] {
                assert!(
                    verify_inclusion(&flip(&leaves[i], byte), index, size, &proof, &root_n)
                        .is_err()
                );
            }
            if n > 1 {
                let other = leaves[(i + 1) % n];
                assert!(verify_inclusion(&other, index, size, &proof, &root_n).is_err());
            }
            // The index: every other index of a small tree, neighbours and
            // far ones of a large one.
            let wrong_indices: Vec<usize> = if n <= 64 {
                (0..n + 2).filter(|&j| j != i).collect()
            } else {
                [
                    i ^ 1,
                    i ^ 2,
                    i + 1,
                    i.wrapping_sub(1),
                    n - 1 - i,
                    n,
                    n + 1,
                    i + n / 2,
                ]
                .into_iter()
                .filter(|&j| j != i && j < 2 * n)
                .collect()
            };
            for j in wrong_indices {
                let wrong = u64::try_from(j).unwrap();
                assert!(
                    verify_inclusion(&leaves[i], wrong, size, &proof, &root_n).is_err(),
                    "index {j} accepted for leaf {i} of {n}"
                );
            }
            // The size: the proof must not verify against the root of any
            // other tree containing the leaf; nor against this root with a
            // size of another height.
            let wrong_sizes: Vec<usize> = if n <= 64 {
                (i + 1..=2 * n).filter(|&s| s != n).collect()
            } else {
                [n - 1, n + 1, n + 7, 2 * n, n / 2, i + 1]
                    .into_iter()
                    .filter(|&s| s != n && s > i)
                    .collect()
            };
            for s in wrong_sizes {
                let wrong = u64::try_from(s).unwrap();
                assert!(
                    verify_inclusion(&leaves[i], index, wrong, &proof, &roots[s]).is_err(),
                    "size {s} accepted for leaf {i} of {n}"
                );
            }
            for wrong in [size * 2, size / 2, size + size.next_power_of_two()] {
                if wrong != size {
                    assert!(verify_inclusion(&leaves[i], index, wrong, &proof, &root_n).is_err());
                }
            }
        }
    }

    /// The roots of every prefix of `leaves` (index s = root of the first s).
    fn prefix_roots(leaves: &[Hash]) -> Vec<Hash> {
        let mut range = CompactRange::new();
        let mut roots = vec![range.root()];
        for leaf in leaves {
            range.append(*leaf).unwrap();
            roots.push(range.root());
        }
        roots
    }

    #[test]
    fn log2_inclusion_exhaustive_small_trees() {
        for n in 1..=40 {
            let leaves = make_leaves(2 * n + 2, 7);
            let roots = prefix_roots(&leaves);
            let all: Vec<usize> = (0..n).collect();
            check_inclusion(&leaves, &roots, n, &all);
        }
    }

    /// LOG-3 for one pair m < n: prove → verify; every mutation of the
    /// proof, wrong sizes, and a rewritten historical leaf fail.
    fn check_consistency(leaves: &[Hash], roots: &[Hash], m: usize, n: usize) {
        let (old, new) = (u64::try_from(m).unwrap(), u64::try_from(n).unwrap());
        let proof = consistency_proof(leaves, old, new).unwrap();
        verify_consistency(old, new, &roots[m], &roots[n], &proof).unwrap();
        assert_proof_mutations_fail(&proof, |p| {
            verify_consistency(old, new, &roots[m], &roots[n], p).is_ok()
        });
        // Wrong roots.
        assert!(verify_consistency(old, new, &flip(&roots[m], 3), &roots[n], &proof).is_err());
        assert!(verify_consistency(old, new, &roots[m], &flip(&roots[n], 3), &proof).is_err());
        // Wrong sizes (with the genuine roots of those sizes).
        for wrong_m in [m - 1, m + 1] {
            if wrong_m >= 1 && wrong_m < n {
                let wm = u64::try_from(wrong_m).unwrap();
                assert!(
                    verify_consistency(wm, new, &roots[wrong_m], &roots[n], &proof).is_err(),
                    "old size {wrong_m} accepted for {m} -> {n}"
                );
            }
        }
        for wrong_n in [n - 1, n + 1] {
            if wrong_n > m && wrong_n < roots.len() {
                let wn = u64::try_from(wrong_n).unwrap();
                assert!(
                    verify_consistency(old, wn, &roots[m], &roots[wrong_n], &proof).is_err(),
                    "new size {wrong_n} accepted for {m} -> {n}"
                );
            }
        }
        // A rewritten historical leaf: the tampered log's new root and its
        // freshly made proof do not verify against the old (published) root.
        for t in [0, m / 2, m - 1] {
            let mut tampered = leaves[..n].to_vec();
            tampered[t] = flip(&tampered[t], 0);
            let tampered_root = root(&tampered);
            let tampered_proof = consistency_proof(&tampered, old, new).unwrap();
            assert!(
                verify_consistency(old, new, &roots[m], &tampered_root, &tampered_proof).is_err(),
                "rewritten leaf {t} accepted for {m} -> {n}"
            );
            assert!(verify_consistency(old, new, &roots[m], &tampered_root, &proof).is_err());
        }
    }

    #[test]
    fn log3_consistency_exhaustive_small_trees() {
        let leaves = make_leaves(42, 11);
        let roots = prefix_roots(&leaves);
        for n in 2..=40 {
            for m in 1..n {
                check_consistency(&leaves, &roots, m, n);
            }
        }
    }

    #[test]
    fn compact_range_matches_root_for_every_size_up_to_1000() {
        let leaves = make_leaves(1000, 3);
        let mut range = CompactRange::new();
        assert_eq!(range.root(), empty_root());
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(range.append(*leaf).unwrap(), u64::try_from(i).unwrap());
            assert_eq!(range.root(), root(&leaves[..=i]), "size {}", i + 1);
            assert_eq!(
                range.peaks().len(),
                usize::try_from(range.size().count_ones()).unwrap()
            );
        }
    }

    #[test]
    fn compact_range_bytes() {
        let leaves = kat_leaves();
        let range = CompactRange::from_leaves(&leaves[..6]).unwrap();
        let bytes = range.to_bytes();
        assert_eq!(bytes.len(), 8 + 2 * HASH_LEN);
        assert_eq!(&bytes[..8], &6u64.to_be_bytes());
        assert_eq!(&bytes[8..40], &root(&leaves[..4]));
        assert_eq!(&bytes[40..], &root(&leaves[4..6]));
        assert_eq!(CompactRange::from_bytes(&bytes).unwrap(), range);
        assert_eq!(
            CompactRange::from_bytes(&bytes[..bytes.len() - 1]),
            Err(CompactRangeError::Malformed)
        );
        assert_eq!(
            CompactRange::from_bytes(&bytes[..40]),
            Err(CompactRangeError::Malformed)
        );
        assert_eq!(
            CompactRange::from_bytes(&[0; 7]),
            Err(CompactRangeError::Malformed)
        );
        assert_eq!(
            CompactRange::from_bytes(&[0; 8]).unwrap(),
            CompactRange::new()
        );
        assert_eq!(
            CompactRange::from_parts(3, vec![empty_root()]),
            Err(CompactRangeError::Malformed)
        );
        let mut full = CompactRange::from_parts(u64::MAX, vec![empty_root(); 64]).unwrap();
        assert_eq!(full.append(empty_root()), Err(CompactRangeError::Full));
        assert_eq!(CompactRangeError::Full.code(), "merkle_tree_full");
        assert_eq!(ProofError::RootMismatch.code(), "merkle_root_mismatch");
        assert!(
            ProofError::OldRootMismatch
                .message_it()
                .contains("alterato")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// LOG-2: random n ≤ 1000; every index when n ≤ 64, else a sample.
        #[test]
        fn log2_inclusion_random_trees(
            n in 1usize..=1000,
            seed in any::<u64>(),
            picks in proptest::collection::vec(any::<proptest::sample::Index>(), 24),
        ) {
            let leaves = make_leaves(2 * n + 2, seed);
            let roots = prefix_roots(&leaves);
            let indices: Vec<usize> = if n <= 64 {
                (0..n).collect()
            } else {
                let mut v: Vec<usize> = picks.iter().map(|p| p.index(n)).collect();
                v.extend([0, n - 1, n / 2]);
                v
            };
            check_inclusion(&leaves, &roots, n, &indices);
        }

        /// LOG-3: random m < n ≤ 1000.
        #[test]
        fn log3_consistency_random_trees(
            n in 2usize..=1000,
            m_pick in any::<proptest::sample::Index>(),
            seed in any::<u64>(),
        ) {
            let m = 1 + m_pick.index(n - 1);
            let leaves = make_leaves(n + 1, seed);
            let roots = prefix_roots(&leaves);
            check_consistency(&leaves, &roots, m, n);
            // From the empty tree, and to itself.
            verify_consistency(0, u64::try_from(n).unwrap(), &empty_root(), &roots[n], &[]).unwrap();
        }

        /// CompactRange::root equals root() for any n ≤ 1000, and the
        /// frontier survives a round trip through bytes at any point.
        #[test]
        fn compact_range_equals_root(n in 0usize..=1000, cut in any::<proptest::sample::Index>(), seed in any::<u64>()) {
            let leaves = make_leaves(n, seed);
            let cut = if n == 0 { 0 } else { cut.index(n + 1) };
            let first = CompactRange::from_leaves(&leaves[..cut]).unwrap();
            let mut resumed = CompactRange::from_bytes(&first.to_bytes()).unwrap();
            prop_assert_eq!(&resumed, &first);
            for leaf in &leaves[cut..] {
                resumed.append(*leaf).unwrap();
            }
            prop_assert_eq!(resumed.size(), u64::try_from(n).unwrap());
            prop_assert_eq!(resumed.root(), root(&leaves));
        }
    }
}
