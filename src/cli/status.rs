//! `errand status`: the counts, for a prompt or a statusline.

use std::io::Write;

use super::{print_json, stdout_error, Context};
use crate::error::Result;
use crate::task::Counts;

pub fn status(cx: &Context, json: bool, out: &mut impl Write) -> Result<i32> {
    let counts = cx.store.counts()?;
    if json {
        print_json(out, &counts)?;
        return Ok(0);
    }
    let line = short(&counts);
    if !line.is_empty() {
        writeln!(out, "{line}").map_err(stdout_error)?;
    }
    Ok(0)
}

/// "2 running · 1 failed"; empty when idle.
fn short(c: &Counts) -> String {
    let parts: Vec<String> = [(c.running, "running"), (c.queued, "queued"), (c.failed, "failed")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_is_empty_and_zero_counts_are_left_out() {
        assert_eq!(short(&Counts::default()), "");
        assert_eq!(short(&Counts { running: 2, queued: 0, failed: 1, seq: 0 }), "2 running · 1 failed");
    }
}
