//! Naming a process for good. Pids are reused; (pid, start time, boot) is
//! not, so a supervisor recorded in the store is never mistaken for another
//! process that got its pid later, nor for one from before a reboot.

/// One process, identified across pid reuse and reboots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub pid: u32,
    /// Clock ticks since boot when it started (/proc/PID/stat field 22).
    pub start: u64,
    /// The kernel's boot id.
    pub boot: String,
}

impl Identity {
    /// This process.
    pub fn current() -> Identity {
        let pid = std::process::id();
        Identity { pid, start: crate::sys::process_start_time(pid).unwrap_or(0), boot: crate::sys::boot_id() }
    }

    /// Is this very process still alive (not a zombie)?
    pub fn is_alive(&self) -> bool {
        self.boot == crate::sys::boot_id() && crate::sys::process_start_time(self.pid) == Some(self.start)
    }

    /// Was it alive in this boot (as opposed to one before a restart)?
    pub fn same_boot(&self) -> bool {
        self.boot == crate::sys::boot_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_another_process() {
        let me = Identity::current();
        assert!(me.is_alive());
        assert!(!Identity { start: me.start + 1, ..me.clone() }.is_alive(), "same pid, other start: pid reused");
        assert!(!Identity { boot: "another boot".into(), ..me.clone() }.is_alive());
        assert!(!Identity { boot: "another boot".into(), ..me }.same_boot());
    }

    #[test]
    fn a_reaped_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let id = Identity { pid, start: crate::sys::process_start_time(pid).unwrap_or(0), boot: crate::sys::boot_id() };
        child.wait().unwrap();
        assert!(!id.is_alive());
    }
}
