//! Task ids: short, typeable, and any unique prefix names a task.

use crate::error::{Error, Result};

/// Digits and lowercase letters minus i, l, o, u, which are easy to misread
/// or mistype.
pub const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// How long a new id is; longer ones are drawn only when short ones crowd.
pub const SHORT: usize = 4;

/// The shortest id length (at least SHORT) of which `held` tasks take at
/// most 1/16: a new id then collides with an old one once in 16 draws or
/// less, and old, shorter ids keep working beside longer ones.
pub fn length_for(held: u64) -> usize {
    let base = ALPHABET.len() as u64;
    let mut len = SHORT;
    while len < 12 && held.saturating_mul(16) > base.pow(len as u32) {
        len += 1;
    }
    len
}

/// A random id of `len` characters from the alphabet.
pub fn random(len: usize) -> String {
    let base = ALPHABET.len() as u64;
    let mut bits = crate::sys::random_u64();
    (0..len)
        .map(|_| {
            let c = ALPHABET[(bits % base) as usize];
            bits /= base;
            char::from(c)
        })
        .collect()
}

/// What a user typed, as an id prefix: trimmed and lowercased. Anything
/// that cannot be part of an id matches no task.
pub fn normalize(typed: &str) -> Result<String> {
    let prefix = typed.trim().to_ascii_lowercase();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::NoSuchTask(prefix));
    }
    Ok(prefix)
}

/// The ids `prefix` selects, given the (few) ids that start with it: one
/// match, or an exact one among several, wins; more is ambiguous.
pub fn choose(prefix: &str, matches: &[String]) -> Result<String> {
    match matches {
        [] => Err(Error::NoSuchTask(prefix.to_owned())),
        [one] => Ok(one.clone()),
        many if many.iter().any(|m| m == prefix) => Ok(prefix.to_owned()),
        many => Err(Error::AmbiguousId { prefix: prefix.to_owned(), matches: many.to_vec() }),
    }
}

/// The exclusive upper bound of ids starting with `prefix`, for a range
/// scan (`id >= prefix AND id < bound`): '~' sorts after every id character.
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_grow_before_their_length_crowds() {
        assert_eq!(length_for(0), SHORT);
        assert_eq!(length_for(65_536), 4, "32^4 / 16");
        assert_eq!(length_for(65_537), 5);
        assert_eq!(length_for(1_000_000), 5);
        assert_eq!(length_for(2_097_153), 6);
        assert_eq!(length_for(u64::MAX), 12, "never past what 64 random bits fill");
    }

    #[test]
    fn ids_use_only_the_typeable_alphabet() {
        for _ in 0..200 {
            let id = random(SHORT);
            assert_eq!(id.len(), 4);
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
            assert!(!id.contains(['i', 'l', 'o', 'u']));
        }
        assert_eq!(random(9).len(), 9);
    }

    #[test]
    fn prefixes_are_case_blind_and_refuse_what_no_id_holds() {
        assert_eq!(normalize(" K3V ").unwrap(), "k3v");
        assert!(matches!(normalize(""), Err(Error::NoSuchTask(_))));
        assert!(matches!(normalize("k3/"), Err(Error::NoSuchTask(_))));
        assert!(matches!(normalize("%"), Err(Error::NoSuchTask(_))), "no SQL pattern gets through");
    }

    #[test]
    fn a_unique_or_exact_match_wins_and_several_are_ambiguous() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(choose("k3", &ids(&["k3vq"])).unwrap(), "k3vq");
        assert_eq!(choose("k3vq", &ids(&["k3vq", "k3vqa"])).unwrap(), "k3vq");
        match choose("k3", &ids(&["k3vq", "k3xx"])) {
            Err(Error::AmbiguousId { matches, .. }) => assert_eq!(matches, ["k3vq", "k3xx"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(choose("zz", &[]), Err(Error::NoSuchTask(_))));
        assert!("k3vq" >= "k3" && "k3vq" < prefix_end("k3").as_str() && "k4" >= prefix_end("k3").as_str());
    }
}
