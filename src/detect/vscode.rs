//! `.vscode/tasks.json` shell and process tasks. Variables errand can
//! resolve outside the editor are (`${workspaceFolder}`,
//! `${workspaceFolderBasename}`, `${cwd}`, `${env:NAME}`, `${pathSeparator}`);
//! a task using another (`${file}`, `${input:…}`) is listed with the reason
//! and refused when run.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{jsonc, Folder, Found};
use crate::error::Result;
use crate::task::{shell_quote, CommandSpec};
use crate::toml_file;

pub fn detect(folder: &Path, cx: &Folder) -> Result<Vec<Found>> {
    let file = folder.join(".vscode").join("tasks.json");
    let Some(text) = toml_file::read(&file)? else { return Ok(Vec::new()) };
    let config = jsonc::parse(&file, &text)?;
    let Some(tasks) = config.get("tasks").and_then(Value::as_array) else { return Ok(Vec::new()) };
    let vars = Variables { folder, cx };
    let mut found = Vec::new();
    for task in tasks {
        // The Linux section, when there is one, overrides the task's own keys.
        let mut task = task.clone();
        let linux = task.get("linux").and_then(Value::as_object).cloned();
        if let (Some(own), Some(linux)) = (task.as_object_mut(), linux) {
            own.extend(linux);
        }
        let Some(label) = task.get("label").or_else(|| task.get("taskName")).and_then(Value::as_str) else { continue };
        let kind = task.get("type").and_then(Value::as_str).unwrap_or("shell");
        let depends_on = task.get("dependsOn");
        // A task of only dependencies runs them, and nothing itself.
        let Some(command) =
            task.get("command").and_then(command_text).or_else(|| depends_on.map(|_| "true".to_owned()))
        else {
            continue;
        };
        if kind != "shell" && kind != "process" {
            continue; // VS Code's own task types (npm, typescript…) are detected from their files
        }
        let args: Vec<String> =
            task.get("args").and_then(Value::as_array).into_iter().flatten().filter_map(command_text).collect();
        let mut entry =
            Found::argv("vscode", label, &[], folder, &file).described(task.get("detail").and_then(Value::as_str));
        let mut refused = Vec::new();
        let mut resolve = |s: &str| {
            vars.resolve(s).unwrap_or_else(|unknown| {
                refused.push(unknown);
                s.to_owned()
            })
        };
        let command = resolve(&command);
        let args: Vec<String> = args.iter().map(|a| resolve(a)).collect();
        entry.command = if kind == "process" {
            CommandSpec::Argv(std::iter::once(command).chain(args).collect())
        } else {
            // A shell task's command is shell text; its args are words.
            CommandSpec::Shell(
                std::iter::once(command).chain(args.iter().map(|a| shell_quote(a))).collect::<Vec<_>>().join(" "),
            )
        };
        let options = task.get("options");
        if let Some(cwd) = options.and_then(|o| o.get("cwd")).and_then(Value::as_str) {
            entry.cwd = folder.join(resolve(cwd));
        }
        let env = options.and_then(|o| o.get("env")).and_then(Value::as_object).into_iter().flatten();
        entry.env = env.filter_map(|(k, v)| Some((k.clone(), resolve(v.as_str()?)))).collect::<BTreeMap<_, _>>();
        // Labels of other tasks of this file: errand runs them first, as `vscode:LABEL`.
        let labels = match depends_on {
            None => Some(Vec::new()),
            Some(Value::String(label)) => Some(vec![label.clone()]),
            Some(Value::Array(all)) => all.iter().map(|l| l.as_str().map(str::to_owned)).collect(),
            Some(_) => None,
        };
        match labels {
            Some(labels) => entry.depends = labels.iter().map(|l| format!("vscode:{l}")).collect(),
            None => refused.push("its dependsOn names a task by other than its label".to_owned()),
        }
        entry.in_sequence = task.get("dependsOrder").and_then(Value::as_str) == Some("sequence");
        if task.get("isBackground").and_then(Value::as_bool) == Some(true) {
            entry.ready = ends_pattern(task.get("problemMatcher"));
        }
        if entry.command.validate().is_err() {
            refused.push("its command is empty or too long".to_owned());
        }
        refused.dedup();
        entry.refused = (!refused.is_empty()).then(|| refused.join("; "));
        found.push(entry);
    }
    // A dependency must be a task of this file errand reads ("npm: build",
    // VS Code's own kinds, are not): otherwise say so now, not when run.
    let labels: std::collections::HashSet<String> = found.iter().map(|f| f.name.clone()).collect();
    for entry in &mut found {
        let unknown: Vec<&str> = entry
            .depends
            .iter()
            .map(|d| d.trim_start_matches("vscode:"))
            .filter(|label| !labels.contains(*label))
            .collect();
        if !unknown.is_empty() {
            let why = format!("its dependsOn names {}, not a shell or process task of this file", unknown.join(", "));
            entry.refused = Some(entry.refused.take().map_or(why.clone(), |r| format!("{r}; {why}")));
        }
    }
    Ok(found)
}

/// What says a background task is ready, as VS Code reads it: the first
/// match of its problem matcher's `background.endsPattern` lets what
/// `dependsOn` it start. `$tsc-watch`, the one named background matcher
/// VS Code ships, says it with tsc's end of a compile. A pattern in a
/// syntax errand's regex does not read (a lookbehind) is left out: then
/// what depends on the task waits for its end.
fn ends_pattern(matcher: Option<&Value>) -> Option<String> {
    let one = |m: &Value| -> Option<String> {
        match m {
            Value::String(name) if name == "$tsc-watch" => {
                Some(r"(?:Compilation complete\.|Found \d+ errors?\.) Watching for file changes\.".to_owned())
            }
            Value::Object(o) => {
                let ends = o.get("background")?.get("endsPattern")?;
                ends.as_str().or_else(|| ends.get("regexp")?.as_str()).map(str::to_owned)
            }
            _ => None,
        }
    };
    let found = match matcher? {
        Value::Array(all) => all.iter().find_map(one),
        m => one(m),
    };
    found.filter(|p| crate::output::ready::Pattern::new(p).is_ok())
}

/// A command or an argument: a string, a list of strings (joined by
/// spaces, as VS Code does), or `{ "value": …, "quoting": … }`.
fn command_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => o.get("value").and_then(command_text),
        _ => None,
    }
}

struct Variables<'a> {
    /// The workspace folder: the one holding `.vscode`.
    folder: &'a Path,
    cx: &'a Folder<'a>,
}

impl Variables<'_> {
    /// `s` with its variables replaced, or why one cannot be.
    fn resolve(&self, s: &str) -> std::result::Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &rest[start + 2..start + len];
            let value = match name {
                "workspaceFolder" | "workspaceRoot" => self.folder.display().to_string(),
                "workspaceFolderBasename" => {
                    self.folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
                }
                "cwd" => self.cx.client_dir.display().to_string(),
                "pathSeparator" | "/" => "/".to_owned(),
                _ => match name.strip_prefix("env:") {
                    Some(var) => (self.cx.env)(var).unwrap_or_default(),
                    None => return Err(format!("it uses ${{{name}}}, which only the editor knows")),
                },
            };
            out.push_str(&value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_errand_knows_are_resolved_and_others_named() {
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let cx = Folder { root: Path::new("/w"), client_dir: Path::new("/w/sub"), env: &env };
        let vars = Variables { folder: Path::new("/w/app"), cx: &cx };
        assert_eq!(
            vars.resolve("${workspaceFolder}/x ${workspaceFolderBasename} ${cwd} ${env:HOME}${env:NONE}${/}").unwrap(),
            "/w/app/x app /w/sub /home/u/"
        );
        assert_eq!(vars.resolve("${file}").unwrap_err(), "it uses ${file}, which only the editor knows");
        assert_eq!(vars.resolve("a ${unclosed").unwrap(), "a ${unclosed");
    }
}
