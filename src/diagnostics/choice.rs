//! Which matchers read a task's output: every built-in one (the default),
//! none (`matcher = false`), or the ones a workflow or run names
//! (`matcher = "gcc"`, `matcher = ["tsc", "eslint"]`; `generic` only this
//! way, as its plain `file:line: message` would find places in any log).
//! Stored with the task as text: NULL, `none`, or the names joined by `,`.

use super::{eslint, gcc, generic, go, python, rust, tsc, Matcher};

/// A matcher by name, with the matchers that read only lines holding a
/// `:` and those that read every line.
struct Tool {
    name: &'static str,
    also: &'static [&'static str],
    colon: &'static [Matcher],
    line: &'static [Matcher],
}

const TOOLS: [Tool; 7] = [
    Tool { name: "rustc", also: &["rust", "cargo"], colon: &[rust::matches], line: &[] },
    Tool { name: "gcc", also: &["clang", "make"], colon: &[gcc::matches], line: &[] },
    Tool { name: "tsc", also: &["typescript"], colon: &[tsc::matches], line: &[] },
    Tool { name: "eslint", also: &[], colon: &[eslint::matches], line: &[eslint::stylish_matches] },
    Tool { name: "python", also: &["pytest", "mypy"], colon: &[], line: &[python::matches] },
    Tool { name: "go", also: &[], colon: &[go::matches], line: &[] },
    // Last of all (reading every line, after every other matcher): a line
    // another matcher read is theirs, with its code and source.
    Tool { name: "generic", also: &[], colon: &[], line: &[generic::matches] },
];

/// The stored text for matching turned off.
pub const OFF: &str = "none";

/// The names a user may give, for messages and completion.
pub fn names() -> impl Iterator<Item = &'static str> {
    TOOLS.iter().map(|t| t.name)
}

/// A user's choice (from `--matcher`, `task/run` or a workflow), checked
/// and stored as text: `none`/`false`/`off` for no matching, else one name
/// or several joined by `,`. Unknown names are refused, listing the known.
pub fn normalize(choice: &str) -> Result<String, String> {
    let choice = choice.trim();
    if ["none", "false", "off"].contains(&choice) {
        return Ok(OFF.to_owned());
    }
    let mut picked: Vec<&str> = Vec::new();
    for name in choice.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let tool = TOOLS.iter().find(|t| t.name == name || t.also.contains(&name)).ok_or_else(|| {
            format!("unknown matcher '{name}' (known: {}, or none)", names().collect::<Vec<_>>().join(", "))
        })?;
        if !picked.contains(&tool.name) {
            picked.push(tool.name);
        }
    }
    if picked.is_empty() {
        return Err("the matcher is empty (give a name, or none)".into());
    }
    Ok(picked.join(","))
}

/// Is matching off for a task with this stored choice?
pub fn is_off(stored: Option<&str>) -> bool {
    stored == Some(OFF)
}

/// The matchers a stored choice runs: (those that need a `:`, those that read every line).
pub(super) fn matchers(stored: Option<&str>) -> (Vec<Matcher>, Vec<Matcher>) {
    let chosen = |t: &Tool| match stored {
        None => t.name != "generic",
        Some(names) => names.split(',').any(|n| n == t.name),
    };
    let tools = TOOLS.iter().filter(|t| chosen(t));
    let colon = tools.clone().flat_map(|t| t.colon.iter().copied()).collect();
    let line = tools.flat_map(|t| t.line.iter().copied()).collect();
    (colon, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_checked_and_stored_plainly() {
        assert_eq!(normalize("false").as_deref(), Ok("none"));
        assert_eq!(normalize(" cargo , tsc,rustc ").as_deref(), Ok("rustc,tsc"));
        assert_eq!(normalize("clang").as_deref(), Ok("gcc"));
        let err = normalize("gcc,javac").unwrap_err();
        assert!(err.contains("unknown matcher 'javac'") && err.contains("generic"), "{err}");
        assert!(normalize(" , ").is_err());
    }

    #[test]
    fn the_default_leaves_the_generic_matcher_out_and_a_name_picks_only_it() {
        let (colon, line) = matchers(None);
        assert_eq!((colon.len(), line.len()), (5, 2));
        let (colon, line) = matchers(Some("generic"));
        assert_eq!((colon.len(), line.len()), (0, 1));
        let (colon, line) = matchers(Some("eslint,python"));
        assert_eq!((colon.len(), line.len()), (1, 2));
    }
}
