//! errand's files are private to the user.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::Home;

#[test]
fn files_are_private_to_the_user() {
    let home = Home::new();
    let id = home.submit("echo x");
    home.wait(&[&id]);
    for rel in ["", "errand.db", "logs", &format!("logs/{id}.out"), "run"] {
        let mode = std::fs::metadata(home.errand_home().join(rel)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{rel} is {mode:o}");
    }
}
