//! Human output of the CLI: aligned, coloured only on a terminal (and
//! without NO_COLOR), times relative to now.

use std::borrow::Cow;
use std::io::{self, IsTerminal};

use crate::diagnostics::DiagnosticCounts;
use crate::task::{Exit, Status, Task};

pub struct Style {
    pub color: bool,
    /// The terminal's columns; None when stdout is not a terminal (then
    /// nothing is cut: a script gets whole names).
    pub width: Option<usize>,
}

impl Style {
    /// Colour on a terminal unless NO_COLOR is set or CLICOLOR=0;
    /// CLICOLOR_FORCE colours a pipe too (https://bixense.com/clicolors/).
    pub fn detect() -> Style {
        let tty = io::stdout().is_terminal();
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
        let color = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            false
        } else if set("CLICOLOR_FORCE") {
            true
        } else {
            tty && std::env::var_os("CLICOLOR").is_none_or(|v| v != "0")
        };
        let columns = || std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
        let width = if tty { crate::sys::terminal_columns().map(usize::from).or_else(columns) } else { None };
        Style { color, width }
    }

    /// Plain text, nothing cut: for tests.
    pub fn plain() -> Style {
        Style { color: false, width: None }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// The status, padded to `width`, in its colour.
    pub fn status(&self, status: Status, width: usize) -> String {
        self.in_status_colour(status, &format!("{:<width$}", status.as_str()))
    }

    /// `text` in the colour of `status` ("paused" in running's).
    pub fn in_status_colour(&self, status: Status, text: &str) -> String {
        let code = match status {
            Status::Queued => "2",
            Status::Running => "36",
            Status::Completed => "32",
            Status::Failed => "31",
            Status::Cancelled => "33",
            Status::Lost => "35",
        };
        self.paint(code, text)
    }
}

/// Text that came from a task or a project file, safe for a terminal: each
/// control character (C0, DEL, C1) is shown as `cat -v` shows it (`^[` for
/// ESC, `^J` for a newline, `^I` for a tab, `^?` for DEL, `M-^[` for U+009B),
/// so a name can neither move the cursor nor break a line.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            code @ 0..=0x1f => shown.extend(['^', char::from(code as u8 + 0x40)]),
            0x7f => shown.push_str("^?"),
            code @ 0x80..=0x9f => shown.extend(['M', '-', '^', char::from((code - 0x80) as u8 + 0x40)]),
            _ => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// `text` cut to `width` terminal columns, by display width (a CJK
/// character or an emoji takes two), ending in `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_owned();
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        cut.push(c);
        used += w;
    }
    if width > 0 {
        cut.push('…');
    }
    cut
}

/// "now", "3s ago", "4m ago", "2h ago", "5d ago": rounded to the nearest
/// unit shown, so 1.6 s is "2s ago", never "1s".
pub fn relative(ms: i64) -> String {
    let ms = ms.max(0);
    let round = |unit: i64| (ms + unit / 2) / unit;
    match ms {
        0..=499 => "now".to_owned(),
        500..=59_499 => format!("{}s ago", round(1000)),
        59_500..=3_569_999 => format!("{}m ago", round(60_000).max(1)),
        3_570_000..=86_399_999 => format!("{}h ago", round(3_600_000).max(1)),
        _ => format!("{}d ago", round(86_400_000).max(1)),
    }
}

/// "0.4s", "12.3s", "3m04s", "1h02m".
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..=59_999 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// The EXIT column: a code, or the signal.
fn exit_column(task: &Task) -> String {
    match task.exit() {
        Some(Exit::Code(c)) => c.to_string(),
        Some(Exit::Signal(s)) => format!("sig{s}"),
        None => String::new(),
    }
}

/// A column of the `ls` table.
struct Column {
    title: &'static str,
    right: bool,
    cell: fn(&Task, i64) -> String,
}

/// A task's status as a word: a paused task is `running` (it holds its
/// slot) but says "paused"; a long-running one whose output said it is
/// ready says "ready".
pub fn status_word(task: &Task) -> &'static str {
    if task.paused_at.is_some() {
        "paused"
    } else if task.ready_at.is_some() {
        "ready"
    } else {
        task.status().as_str()
    }
}

/// The `ls` table: a header, one row per task, and a hint when more exist.
/// On a terminal it fits the width: the name gets what the other columns
/// leave (cut with `…` by display width), and on a narrow one the least
/// telling columns go first (EXIT, TOOK, WHEN). DONE and ETA appear when a
/// listed task reports progress.
pub fn table(tasks: &[Task], more: bool, now: i64, style: &Style) -> String {
    use unicode_width::UnicodeWidthStr;
    let id_w = tasks.iter().map(|t| t.id.len()).max().unwrap_or(4).max(2);
    let mut columns = vec![Column { title: "STATUS", right: false, cell: |t, _| status_word(t).to_owned() }];
    // Progress means something while a task runs; afterwards its status says it.
    if tasks.iter().any(|t| t.status() == Status::Running && (t.progress().is_some() || t.eta_at(now).is_some())) {
        columns.push(Column {
            title: "DONE",
            right: true,
            cell: |t, _| match (t.status(), t.progress()) {
                (Status::Running, Some(p)) => format!("{:.0}%", p.percent),
                _ => String::new(),
            },
        });
        columns.push(Column {
            title: "ETA",
            right: true,
            cell: |t, now| t.eta_at(now).map(|at| duration(at - now)).unwrap_or_default(),
        });
    }
    columns.push(Column {
        title: "WHEN",
        right: true,
        cell: |t, now| relative(now - t.ended_at().or(t.started_at()).unwrap_or(t.created_at)),
    });
    columns.push(Column {
        title: "TOOK",
        right: true,
        cell: |t, now| t.duration_ms(now).map(duration).unwrap_or_default(),
    });
    columns.push(Column { title: "EXIT", right: true, cell: |t, _| exit_column(t) });
    let cells: Vec<Vec<String>> = columns.iter().map(|c| tasks.iter().map(|t| (c.cell)(t, now)).collect()).collect();
    let mut widths: Vec<usize> = columns
        .iter()
        .zip(&cells)
        .map(|(c, col)| col.iter().map(|v| v.width()).chain([c.title.len()]).max().unwrap_or(0))
        .collect();
    // Drop columns from the right (EXIT, TOOK, WHEN) until a name has room.
    let mut shown = columns.len();
    let used = |shown: usize| id_w + widths[..shown].iter().map(|w| w + 2).sum::<usize>() + 2;
    if let Some(width) = style.width {
        while shown > 1 && used(shown) + 12 > width {
            shown -= 1;
        }
    }
    let name_w = style.width.map(|w| w.saturating_sub(used(shown)).max(4)).unwrap_or(usize::MAX);
    widths.truncate(shown);
    let row = |id: &str, values: &[String], name: &str, status: Option<Status>| {
        let mut line = format!("{id:<id_w$}");
        for (i, (value, w)) in values.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(value.width()));
            let cell = match (i, status) {
                (0, Some(status)) => style.in_status_colour(status, value),
                _ => value.clone(),
            };
            line.push_str("  ");
            if columns[i].right {
                line.push_str(&pad);
                line.push_str(&cell);
            } else {
                line.push_str(&cell);
                line.push_str(&pad);
            }
        }
        format!("{line}  {name}")
    };
    let titles: Vec<String> = columns[..shown].iter().map(|c| c.title.to_owned()).collect();
    let mut text = style.bold(&row("ID", &titles, "NAME", None)) + "\n";
    for (i, t) in tasks.iter().enumerate() {
        let values: Vec<String> = cells[..shown].iter().map(|col| col[i].clone()).collect();
        text.push_str(&row(&t.id, &values, &fit(&visible(&t.name), name_w), Some(t.status())));
        text.push('\n');
    }
    if more {
        text.push_str(&style.dim("… older tasks: errand ls --all"));
        text.push('\n');
    }
    text
}

/// `show`: one labelled line per fact.
/// `2 errors, 1 warning`: the severities present.
pub fn diagnostic_counts(c: &DiagnosticCounts) -> String {
    let part = |n: u32, one: &str, many: &str| (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }));
    [part(c.errors, "error", "errors"), part(c.warnings, "warning", "warnings"), part(c.infos, "note", "notes")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn details(task: &Task, now: i64, style: &Style) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        ("id", task.id.clone()),
        ("name", visible(&task.name).into_owned()),
        ("status", style.in_status_colour(task.status(), status_word(task))),
        ("command", visible(&task.command.to_string()).into_owned()),
        ("cwd", visible(&task.cwd).into_owned()),
    ];
    for (k, v) in &task.env {
        lines.push(("env", visible(&format!("{k}={v}")).into_owned()));
    }
    let when = |at: i64| format!("{} ({})", crate::sys::local_time(at), relative(now - at));
    lines.push(("created", when(task.created_at)));
    if let Some(s) = task.started_at() {
        lines.push(("started", when(s)));
    }
    if let Some(e) = task.ended_at() {
        lines.push(("ended", when(e)));
    }
    if let Some(d) = task.duration_ms(now) {
        lines.push(("duration", duration(d)));
    }
    if let Some(p) = task.paused_at {
        lines.push(("paused", format!("{} (errand resume {})", when(p), task.id)));
    }
    if let Some(pattern) = &task.ready_pattern {
        let said = match task.ready_at {
            Some(at) => format!("{} (its output matched /{}/)", when(at), visible(pattern)),
            None if task.status() == Status::Running => format!("not yet (waiting for /{}/)", visible(pattern)),
            None => format!("when its output matches /{}/", visible(pattern)),
        };
        lines.push(("ready", said));
    }
    match task.exit() {
        Some(Exit::Code(c)) => lines.push(("exit code", c.to_string())),
        Some(Exit::Signal(s)) => lines.push(("signal", s.to_string())),
        None => {}
    }
    if let Some(p) = task.progress() {
        let msg = p.message.as_deref().unwrap_or("");
        lines.push(("progress", visible(format!("{:.0}% {msg}", p.percent).trim_end()).into_owned()));
    }
    if let Some(eta) = task.eta_at(now) {
        lines.push(("eta", format!("in {}", duration(eta - now))));
    }
    if let Some(e) = task.error() {
        lines.push(("error", visible(e).into_owned()));
    }
    if let Some(counts) = task.diagnostics.filter(|c| c.total() > 0) {
        lines.push(("diagnostics", format!("{} (errand errors {})", diagnostic_counts(&counts), task.id)));
    }
    if let Some(ms) = task.timeout_ms {
        lines.push(("timeout", crate::duration::show(ms)));
    }
    if task.retries > 0 {
        let apart = task.retry_delay_ms.map(|ms| format!(", {} apart", crate::duration::show(ms))).unwrap_or_default();
        lines.push(("retries", format!("{}{apart}", task.retries)));
    }
    for (i, a) in task.attempts.iter().enumerate() {
        let why = crate::task::why_failed(a.exit(), a.error.as_deref());
        let took = duration(a.ended_at - a.started_at);
        lines.push(("failed run", format!("{}: {} after {took}", i + 1, visible(&why))));
    }
    if !task.attempts.is_empty() && task.status() == Status::Running {
        lines.push(("run", format!("{} of {}", task.attempts.len() + 1, task.retries + 1)));
    }
    if let Some(bytes) = task.result_bytes {
        lines.push(("result", format!("{bytes} bytes of JSON (errand result {})", task.id)));
    }
    if let Some(why) = &task.result_error {
        lines.push(("result", format!("none kept: {}", visible(why))));
    }
    if let Some(m) = &task.matcher {
        lines.push(("matcher", visible(m).into_owned()));
    }
    if let Some(g) = &task.group {
        lines.push(("group", visible(g).into_owned()));
    }
    if let Some(w) = &task.workflow {
        lines.push(("workflow", format!("#{}", visible(w))));
    }
    if !task.depends_on.is_empty() {
        lines.push(("after", task.depends_on.join(", ")));
    }
    if let Some(r) = &task.restarted_from {
        lines.push(("restarted from", r.clone()));
    }
    if let (Status::Running, Some(pid)) = (task.status(), task.pid()) {
        lines.push(("pid", pid.to_string()));
    }
    if task.deleted_at.is_some() {
        lines.push(("deleted", "yes (errand restore)".into()));
    }
    lines.iter().map(|(k, v)| format!("{}  {v}\n", style.bold(&format!("{k:>14}")))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::testing::task;
    use crate::task::{End, State};

    #[test]
    fn times_read_as_people_say_them() {
        assert_eq!(relative(3_400), "3s ago");
        assert_eq!(relative(1_600), "2s ago", "rounded, not cut");
        assert_eq!(relative(-5), "now", "a clock step back is now");
        assert_eq!(relative(4 * 60_000 + 1), "4m ago");
        assert_eq!(relative(2 * 3_600_000), "2h ago");
        assert_eq!(relative(5 * 86_400_000), "5d ago");
        assert_eq!(duration(400), "0.4s");
        assert_eq!(duration(184_000), "3m04s");
        assert_eq!(duration(3_720_000), "1h02m");
    }

    #[test]
    fn the_table_lines_up_and_shows_exit_or_signal() {
        let failed = State::Ended {
            started_at: Some(0),
            ended_at: 1_500,
            end: End::Failed(Some(Exit::Signal(9))),
            pid: None,
            progress: None,
            error: None,
        };
        let tasks = [task("k3vq", "make", failed), task("zz1x", "echo hi", State::Queued)];
        let text = table(&tasks, true, 10_000, &Style::plain());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID    STATUS"));
        assert!(lines[1].contains("failed") && lines[1].contains("1.5s") && lines[1].contains("sig9"));
        assert_eq!(lines[0].find("NAME"), lines[1].find("make"));
        assert_eq!(lines[0].find("NAME"), lines[2].find("echo hi"));
        assert!(lines[3].contains("errand ls --all"));
    }

    #[test]
    fn control_characters_show_as_cat_v_shows_them() {
        assert!(matches!(visible("make → ok ✓"), Cow::Borrowed(_)), "nothing to replace");
        assert_eq!(visible("a\nb\tc\rd"), "a^Jb^Ic^Md");
        assert_eq!(visible("\x1b]0;owned\x07\x1b[2J"), "^[]0;owned^G^[[2J");
        assert_eq!(visible("\0\x7f\u{9b}31m\u{85}"), "^@^?M-^[31mM-^E");
    }

    #[test]
    fn names_commands_and_folders_never_reach_the_terminal_raw() {
        let mut t = task("k3vq", "a\nb\x1b[31m", State::Queued);
        t.cwd = "/tmp/\x1b]0;x\x07".into();
        let table = table(std::slice::from_ref(&t), false, 0, &Style::plain());
        assert_eq!(table.lines().count(), 2, "one row: {table}");
        assert!(table.ends_with("a^Jb^[[31m\n"));
        let shown = details(&t, 0, &Style::plain());
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
        assert!(shown.contains("/tmp/^[]0;x^G"));
    }
}
