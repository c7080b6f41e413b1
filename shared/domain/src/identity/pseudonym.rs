//! Pseudonymous keys. Personnummer never appear in storage keys, S3 keys, URLs or logs
//! (spec §2.6): people are addressed by a `person_ref`, companies (a sole trader's orgnr
//! is a personnummer) and partner-chosen ids by keyed hashes.

use crate::identity::{Orgnr, PersonId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The pseudonymous key of a company (`c` and 24 hex digits): what its data is stored
/// under, made only by [`PseudonymKey::company_key`] from a parsed [`Orgnr`] or read back
/// from the table, so a function that takes one cannot be handed an orgnr or any other
/// string by mistake. It reads as a `&str` for building keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CompanyKey(String);

impl CompanyKey {
    /// A company key as the table stored it (the companies partition, a job's marker).
    pub fn from_stored(key: impl Into<String>) -> Self {
        CompanyKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for CompanyKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CompanyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<String> for CompanyKey {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<CompanyKey> for String {
    fn eq(&self, other: &CompanyKey) -> bool {
        *self == other.0
    }
}

impl From<&CompanyKey> for serde_json::Value {
    fn from(k: &CompanyKey) -> serde_json::Value {
        serde_json::Value::String(k.0.clone())
    }
}

impl From<CompanyKey> for String {
    fn from(k: CompanyKey) -> String {
        k.0
    }
}

/// The opaque, company-scoped reference to a person (`p` and 24 hex digits), made by
/// [`PseudonymKey::person_ref`] or read back from the table. A reference a client names
/// (a path segment, an extract order) is taken with [`PersonRef::named`] and only looked
/// up, never trusted: the spec calls it opaque, so a malformed one is as unknown as any
/// other that the company's ledger does not hold (404, after the company check).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct PersonRef(String);

impl PersonRef {
    /// A person reference as the table stored it.
    pub fn from_stored(r: impl Into<String>) -> Self {
        PersonRef(r.into())
    }

    /// A person reference a client named, to be looked up.
    pub fn named(r: impl Into<String>) -> Self {
        PersonRef(r.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for PersonRef {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PersonRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for PersonRef {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PersonRef {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<PersonRef> for String {
    fn from(r: PersonRef) -> String {
        r.0
    }
}

/// The secret behind every pseudonym. Stable for the life of a deployment: rebuilding
/// the index from the archive must give the same `person_ref`s.
#[derive(Clone)]
pub struct PseudonymKey(Vec<u8>);

impl PseudonymKey {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        PseudonymKey(secret.into())
    }

    fn mac(&self, parts: &[&str]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("hmac takes any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0x1f]);
        }
        mac.finalize().into_bytes().into()
    }

    /// The key under which a company's data is stored.
    pub fn company_key(&self, orgnr: &Orgnr) -> CompanyKey {
        CompanyKey(format!(
            "c{}",
            &hex::encode(self.mac(&["company", orgnr.as_str()]))[..24]
        ))
    }

    /// The opaque, company-scoped reference to a person.
    pub fn person_ref(&self, orgnr: &Orgnr, person: &PersonId) -> PersonRef {
        PersonRef(format!(
            "p{}",
            &hex::encode(self.mac(&["person", orgnr.as_str(), &person.canonical()]))[..24]
        ))
    }

    /// The key of a person across companies (an employee's own extracts): keyed hash
    /// of the identity alone, so it never reveals it.
    pub fn subject_key(&self, person: &PersonId) -> String {
        format!(
            "s{}",
            &hex::encode(self.mac(&["subject", &person.canonical()]))[..24]
        )
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

/// A fixed-length key fragment for a partner-chosen id (event or batch id), which could
/// hold anything.
pub fn id_fragment(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..16])
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests;
