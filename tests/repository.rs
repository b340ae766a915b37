//! The repository stands on its own: a stranger's clone has nothing beside it, and the
//! scripts the README names run as written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "corpus" || name == "artifacts" {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn nothing_reads_a_path_outside_the_repository() {
    // Built from parts so that this file does not name it itself.
    let outside = format!("{}/{}", "..", "shared");
    let mut files = Vec::new();
    for dir in ["src", "tests", "scripts", "fuzz", ".ci"] {
        files_under(&Path::new(ROOT).join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "the walk found the source tree: {files:?}"
    );
    let offenders: Vec<_> = files
        .iter()
        .filter(|path| {
            fs::read(path)
                .map(|bytes| String::from_utf8_lossy(&bytes).contains(&outside))
                .unwrap_or(false)
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these files name {outside}, which a clone does not have: {offenders:?}"
    );
}

#[test]
fn every_script_the_readme_names_is_executable() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut named: Vec<&str> = readme
        .match_indices("scripts/")
        .map(|(at, _)| {
            let rest = &readme[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "/_.-".contains(c)))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.')
        })
        .filter(|name| name.len() > "scripts/".len())
        .collect();
    named.sort_unstable();
    named.dedup();
    assert!(
        named.contains(&"scripts/test") && named.contains(&"scripts/try-local"),
        "the README names its test command and demo: {named:?}"
    );
    for name in named {
        let path = Path::new(ROOT).join(name);
        let mode = fs::metadata(&path)
            .unwrap_or_else(|e| panic!("the README names {name}, which is not there: {e}"))
            .permissions()
            .mode();
        assert!(
            mode & 0o111 != 0,
            "the README names {name}, which has no run bit (mode {mode:o}): git update-index --chmod=+x {name}"
        );
    }
}
