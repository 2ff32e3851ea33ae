//! How a task's command is spelled: a shell string or an argv.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A shell string run by `sh -c`, or an argv run with no shell at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommandSpec {
    /// Run by `/bin/sh -c`.
    Shell(String),
    /// Program and arguments, run as they are.
    Argv(Vec<String>),
}

impl CommandSpec {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            CommandSpec::Shell(s) if s.trim().is_empty() => Err("the command is empty".into()),
            CommandSpec::Argv(a) if a.is_empty() || a[0].is_empty() => Err("argv is empty".into()),
            CommandSpec::Shell(s) if s.contains('\0') => Err("the command contains a NUL byte".into()),
            CommandSpec::Argv(a) if a.iter().any(|x| x.contains('\0')) => Err("argv contains a NUL byte".into()),
            CommandSpec::Shell(s) if s.len() > MAX_ARG => Err(too_long("the command", s.len())),
            CommandSpec::Argv(a) => match a.iter().find(|x| x.len() > MAX_ARG) {
                Some(x) => Err(too_long("an argument", x.len())),
                None if a.iter().map(String::len).sum::<usize>() > MAX_TOTAL => {
                    Err(format!("the arguments are over {MAX_TOTAL} bytes in all"))
                }
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// A title for a task that was given no name: the command's first line,
    /// at most 60 characters; `…` marks what was left out.
    pub fn title(&self) -> String {
        let full = self.to_string();
        let first_line = full.lines().next().unwrap_or_default().trim();
        let mut title: String = first_line.chars().take(60).collect();
        if title.len() < first_line.len() || full.trim().lines().count() > 1 {
            title.push('…');
        }
        title
    }
}

impl fmt::Display for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandSpec::Shell(s) => f.write_str(s),
            CommandSpec::Argv(argv) => {
                for (i, arg) in argv.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str(&shell_quote(arg))?;
                }
                Ok(())
            }
        }
    }
}

/// Quote one word so a person can paste it back into a shell.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The longest single argument or `NAME=value` Linux runs (MAX_ARG_STRLEN,
/// 32 pages, less the NUL): anything longer fails at exec with E2BIG, so it
/// is refused when submitted, and no task row is larger than a task can be.
pub const MAX_ARG: usize = 128 * 1024 - 1;
/// The most bytes of arguments, or of an environment, in one task: exec's
/// own limit for both together (ARG_MAX, a quarter of the stack limit) is
/// 2 MiB with the usual 8 MiB stack.
pub const MAX_TOTAL: usize = 2 << 20;

fn too_long(what: &str, len: usize) -> String {
    format!("{what} is {len} bytes; the system runs at most {MAX_ARG} bytes in one argument or variable")
}

/// Names and values a process environment can hold.
pub fn validate_env(env: &BTreeMap<String, String>) -> Result<(), String> {
    if env.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>() > MAX_TOTAL {
        return Err(format!("the environment variables are over {MAX_TOTAL} bytes in all"));
    }
    for (k, v) in env {
        if k.len() + 1 + v.len() > MAX_ARG {
            return Err(too_long(&format!("environment variable {k}"), k.len() + 1 + v.len()));
        }
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(format!("invalid environment variable name '{k}'"));
        }
        if v.contains('\0') {
            return Err(format!("environment variable {k} contains a NUL byte"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_shown_quoted_so_it_can_be_pasted_back() {
        let argv = CommandSpec::Argv(vec!["printf".into(), "%s|".into(), "a b".into(), "it's".into(), "".into()]);
        assert_eq!(argv.to_string(), r#"printf '%s|' 'a b' 'it'\''s' ''"#);
    }

    #[test]
    fn a_title_is_the_first_line_shortened() {
        assert_eq!(CommandSpec::Shell("make test".into()).title(), "make test");
        assert_eq!(CommandSpec::Shell("make\nmake install".into()).title(), "make…");
        let long = "é".repeat(70);
        assert_eq!(CommandSpec::Shell(long).title(), format!("{}…", "é".repeat(60)), "counts characters, not bytes");
    }

    #[test]
    fn empty_or_nul_commands_and_env_are_refused() {
        assert!(CommandSpec::Shell("  ".into()).validate().is_err());
        assert!(CommandSpec::Argv(vec![]).validate().is_err());
        assert!(CommandSpec::Argv(vec!["a\0b".into()]).validate().is_err());
        assert!(CommandSpec::Shell("true".into()).validate().is_ok());
        let env = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(validate_env(&env("A=B", "x")).is_err());
        assert!(validate_env(&env("", "x")).is_err());
        assert!(validate_env(&env("A", "x\0")).is_err());
        assert!(validate_env(&env("A", "x=y")).is_ok());
    }
}
