//! `errand status`: the counts, for a prompt or a statusline (`--short`,
//! `--format`), or the running tasks with their progress (`--long`).
//! Nothing is printed when idle, so a prompt segment disappears.

use std::io::Write;

use super::render::{duration, fit, visible};
use super::{print_json, stdout_error, Context};
use crate::error::{Error, Result};
use crate::store::ListFilter;
use crate::task::{now_ms, Counts, Status, Task};

/// Unread tasks are counted up to this many ("999+").
const UNREAD_CAP: u32 = 1000;

/// How `status` shows what it found.
pub enum Shape {
    Short,
    Long,
    Json,
    Format(String),
}

pub fn status(cx: &Context, group: Option<&str>, shape: Shape, out: &mut impl Write) -> Result<i32> {
    let mut counts = cx.store.counts_in(group)?;
    counts.limit = group.and_then(|g| cx.config.group_limit(g));
    let text = match shape {
        Shape::Json => {
            let eta_ms = if counts.running > 0 { eta_ms(&running(cx, group)?, now_ms()) } else { None };
            return print_json(out, &StatusJson { counts, eta_ms }).map(|()| 0);
        }
        Shape::Short => short(&counts),
        Shape::Format(format) => {
            let template = Template::parse(&format)?;
            let mut glance = Glance { counts, unread: None, eta_ms: None };
            if template.uses("unread") {
                glance.unread = Some(cx.store.unread_count(group, UNREAD_CAP)?);
            }
            if template.uses("eta") && counts.running > 0 {
                glance.eta_ms = eta_ms(&running(cx, group)?, now_ms());
            }
            template.render(&glance)
        }
        Shape::Long => long(&running(cx, group)?, counts.queued, now_ms(), cx.style.width.unwrap_or(usize::MAX)),
    };
    if !text.is_empty() {
        writeln!(out, "{text}").map_err(stdout_error)?;
    }
    Ok(0)
}

/// `status --json`: the protocol's counts, and when every running task that
/// reports progress or has run before should be done.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusJson {
    #[serde(flatten)]
    counts: Counts,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_ms: Option<i64>,
}

fn running(cx: &Context, group: Option<&str>) -> Result<Vec<Task>> {
    let filter = ListFilter {
        statuses: vec![Status::Running],
        group: group.map(str::to_owned),
        limit: Some(1000),
        ..ListFilter::default()
    };
    Ok(cx.store.list(&filter)?.0)
}

/// "2 running · 1 failed" ("2/2 running" in a group with a limit); empty
/// when idle.
fn short(c: &Counts) -> String {
    let mut parts: Vec<String> = [(c.running, "running"), (c.queued, "queued"), (c.failed, "failed")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match c.limit.filter(|_| what == "running") {
            Some(limit) => format!("{n}/{limit} {what}"),
            None => format!("{n} {what}"),
        })
        .collect();
    if let Some(running) = parts.first_mut().filter(|_| c.paused > 0) {
        running.push_str(&format!(" ({} paused)", c.paused));
    }
    if c.queue_paused && c.queued > 0 {
        parts.push("queue paused".into());
    }
    if c.watching > 0 {
        parts.push(format!("{} watching", c.watching));
    }
    parts.join(" · ")
}

/// When every running task that reports progress should be done, from now.
fn eta_ms(running: &[Task], now: i64) -> Option<i64> {
    running.iter().filter_map(|t| t.eta_at(now)).max().map(|at| (at - now).max(0))
}

/// The seed's table of running tasks: progress, ETA, stage.
fn long(running: &[Task], queued: u32, now: i64, width: usize) -> String {
    if running.is_empty() {
        let queued = if queued > 0 { format!(" ({queued} queued)") } else { String::new() };
        return format!("No running tasks{queued}");
    }
    let id_w = running.iter().map(|t| t.id.len()).max().unwrap_or(2).max(2);
    // Every line fits the terminal: the name and stage get what is left.
    let mut text = fit(&format!("{:<id_w$}  {:>8}  {:>4}  {:>7}  NAME · STAGE", "ID", "RUNNING", "DONE", "ETA"), width);
    text.push('\n');
    for t in running {
        let progress = t.progress();
        let done = progress.map(|p| format!("{:.0}%", p.percent)).unwrap_or_default();
        let eta = t.eta_at(now).map(|at| duration(at - now)).unwrap_or_default();
        let stage =
            progress.and_then(|p| p.message.as_deref()).map(|m| format!(" · {}", visible(m))).unwrap_or_default();
        let prefix = format!(
            "{:<id_w$}  {:>8}  {done:>4}  {eta:>7}  ",
            t.id,
            t.started_at().map(|s| duration(now - s)).unwrap_or_default()
        );
        let line = format!("{prefix}{}{stage}", visible(&t.name));
        text.push_str(&fit(&line, width));
        text.push('\n');
    }
    if queued > 0 {
        text.push_str(&format!("{queued} queued\n"));
    }
    text.trim_end().to_owned()
}

/// What a `--format` template can show.
struct Glance {
    counts: Counts,
    unread: Option<u32>,
    eta_ms: Option<i64>,
}

impl Glance {
    /// A field's text; empty when zero or unknown.
    fn field(&self, name: &str) -> String {
        let count = |n: u32| if n == 0 { String::new() } else { n.to_string() };
        match name {
            "running" => count(self.counts.running),
            "queued" => count(self.counts.queued),
            "failed" => count(self.counts.failed),
            "unread" => match self.unread {
                Some(n) if n >= UNREAD_CAP => format!("{}+", UNREAD_CAP - 1),
                Some(n) => count(n),
                None => String::new(),
            },
            "eta" => self.eta_ms.map(duration).unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// `--format`: text with `{field}`s; a `[...]` part shows only when a field
/// inside it is not empty, so `[{running}▶ ][{failed}✗]` shows `2▶ ` alone
/// while nothing failed. When idle, nothing at all shows. `{{`, `}}`, `[[`
/// and `]]` are the characters themselves.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Field(String),
    Optional(Vec<Part>),
}

const FIELDS: [&str; 5] = ["running", "queued", "failed", "unread", "eta"];

impl Template {
    fn parse(format: &str) -> Result<Template> {
        let bad =
            |what: &str| Error::InvalidInput(format!("--format: {what} (write {{{{ [[ ]] }}}} for the characters)"));
        let mut stack: Vec<Vec<Part>> = vec![Vec::new()];
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            let nested = stack.len() > 1;
            let top = stack.last_mut().expect("the outermost level is never popped");
            let literal = match c {
                // A doubled bracket or brace is the character itself.
                '{' | '}' | '[' | ']' if chars.peek() == Some(&c) => {
                    chars.next();
                    c
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(bad("a '{' is never closed")),
                        }
                    }
                    if !FIELDS.contains(&name.as_str()) {
                        return Err(Error::InvalidInput(format!(
                            "--format: unknown field {{{name}}} (fields: {})",
                            FIELDS.map(|f| format!("{{{f}}}")).join(" ")
                        )));
                    }
                    top.push(Part::Field(name));
                    continue;
                }
                '[' => {
                    stack.push(Vec::new());
                    continue;
                }
                ']' if nested => {
                    let inner = stack.pop().unwrap_or_default();
                    stack.last_mut().expect("an outer level").push(Part::Optional(inner));
                    continue;
                }
                ']' => return Err(bad("a ']' closes nothing")),
                '}' => return Err(bad("a '}' closes nothing")),
                c => c,
            };
            match top.last_mut() {
                Some(Part::Text(text)) => text.push(literal),
                _ => top.push(Part::Text(literal.to_string())),
            }
        }
        if stack.len() > 1 {
            return Err(bad("a '[' is never closed"));
        }
        Ok(Template { parts: stack.pop().unwrap_or_default() })
    }

    fn uses(&self, field: &str) -> bool {
        fn walk(parts: &[Part], field: &str) -> bool {
            parts.iter().any(|p| match p {
                Part::Field(f) => f == field,
                Part::Optional(inner) => walk(inner, field),
                Part::Text(_) => false,
            })
        }
        walk(&self.parts, field)
    }

    /// The text; nothing at all when idle (nothing runs, waits, failed or
    /// is unread), so a prompt segment disappears.
    fn render(&self, glance: &Glance) -> String {
        let c = glance.counts;
        if c.running + c.queued + c.failed + glance.unread.unwrap_or(0) == 0 {
            return String::new();
        }
        fn walk(parts: &[Part], glance: &Glance) -> (String, bool) {
            let mut text = String::new();
            let mut any = false;
            for part in parts {
                match part {
                    Part::Text(t) => text.push_str(t),
                    Part::Field(f) => {
                        let value = glance.field(f);
                        any |= !value.is_empty();
                        text.push_str(&value);
                    }
                    Part::Optional(inner) => {
                        let (inner, shown) = walk(inner, glance);
                        if shown {
                            text.push_str(&inner);
                            any = true;
                        }
                    }
                }
            }
            (text, any)
        }
        walk(&self.parts, glance).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_is_empty_and_zero_counts_are_left_out() {
        assert_eq!(short(&Counts::default()), "");
        assert_eq!(short(&Counts { running: 2, failed: 1, ..Counts::default() }), "2 running · 1 failed");
        assert_eq!(
            short(&Counts { running: 1, queued: 4, limit: Some(1), ..Counts::default() }),
            "1/1 running · 4 queued"
        );
    }

    fn glance(running: u32, failed: u32, unread: u32) -> Glance {
        Glance { counts: Counts { running, failed, ..Counts::default() }, unread: Some(unread), eta_ms: Some(125_000) }
    }

    #[test]
    fn a_format_shows_its_optional_parts_only_with_a_value_and_nothing_when_idle() {
        let t = Template::parse("[{running}▶ ][{failed}✗ ]{unread}").unwrap();
        assert_eq!(t.render(&glance(2, 0, 0)), "2▶ ");
        assert_eq!(t.render(&glance(2, 1, 3)), "2▶ 1✗ 3");
        assert_eq!(t.render(&glance(0, 0, 0)), "", "idle: nothing");
        assert_eq!(t.render(&glance(0, 0, 5000)), "999+");
        let eta = Template::parse("errand: {running} [eta {eta}]").unwrap();
        assert!(eta.uses("eta") && !eta.uses("unread"));
        assert_eq!(eta.render(&glance(1, 0, 0)), "errand: 1 eta 2m05s");
    }

    #[test]
    fn a_bad_format_is_a_clear_error_and_doubled_characters_are_literal() {
        let e = Template::parse("{runing}").err().unwrap().to_string();
        assert!(e.contains("unknown field {runing}") && e.contains("{running}"), "{e}");
        for (bad, why) in [
            ("[{running}", "never closed"),
            ("{running", "never closed"),
            ("a{", "never closed"),
            ("x]", "closes nothing"),
            ("}", "closes nothing"),
        ] {
            let e = Template::parse(bad).err().unwrap().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let literal = Template::parse("[[{{{running}}}]] jobs").unwrap();
        assert_eq!(literal.render(&glance(2, 0, 0)), "[{2}] jobs");
        assert_eq!(
            Template::parse("busy").unwrap().render(&glance(1, 0, 0)),
            "busy",
            "text alone shows while not idle"
        );
    }

    #[test]
    fn the_long_view_says_when_nothing_runs() {
        assert_eq!(long(&[], 0, 0, 80), "No running tasks");
        assert_eq!(long(&[], 3, 0, 80), "No running tasks (3 queued)");
    }
}
