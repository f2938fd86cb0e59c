//! Refuses a command line whose output file is also one of its inputs, or another of
//! its outputs: creating an output empties it, so `--replay run.jsonl --samples
//! run.jsonl` would destroy the recording before reading it. Checked before anything is
//! read or written.

use std::path::{Path, PathBuf};

use crate::args::{Args, Prompt};
use crate::inputs::image_path;

/// What a path names, to tell whether two paths are one file.
#[derive(Debug, PartialEq)]
enum Identity {
    /// An existing file: its device and inode, which hard links and symlinks share.
    #[cfg(unix)]
    Inode(u64, u64),
    /// A file, by its canonical path (a file yet to be created: the path it will be
    /// created at, its symlinks followed).
    Path(PathBuf),
}

/// The files the flags read and write, with their flags; an error naming the first
/// output that is also an input or an earlier output.
pub(crate) fn refuse_overwriting(args: &Args) -> Result<(), String> {
    let mut inputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(path) = &args.replay {
        inputs.push(("--replay", path));
    }
    if let Some(path) = &args.tools_file {
        inputs.push(("--tools", path));
    }
    if let Some(path) = &args.json_schema_file {
        inputs.push(("--json-schema", path));
    }
    if let Prompt::File(path) = &args.prompt {
        if path.as_os_str() != "-" {
            inputs.push(("--prompt-file", path));
        }
    }
    inputs.extend(
        args.images
            .iter()
            .filter_map(|i| Some(("--image", image_path(i)?))),
    );
    let outputs = [
        ("--record", &args.record),
        ("--samples", &args.samples),
        ("--report", &args.report),
    ];
    let mut written: Vec<(&str, &Path, Identity)> = Vec::new();
    for (flag, path) in outputs {
        let Some(path) = path.as_deref() else {
            continue;
        };
        let Some(output) = identity(path) else {
            continue;
        };
        for (input_flag, input) in &inputs {
            if identity(input).as_ref() == Some(&output) {
                return Err(format!(
                    "{flag}: {} is the same file as {input_flag} {}: writing it would destroy what is read; give {flag} another file",
                    path.display(),
                    input.display()
                ));
            }
        }
        if let Some((other_flag, other, _)) = written.iter().find(|(_, _, id)| *id == output) {
            return Err(format!(
                "{flag}: {} is the same file as {other_flag} {}: one would overwrite the other; give them different files",
                path.display(),
                other.display()
            ));
        }
        written.push((flag, path, output));
    }
    Ok(())
}

/// What `path` names; `None` for what writing does not empty (a device such as
/// `/dev/null`, a pipe) and for a directory (which cannot be written as a file).
fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => None,
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            Some(Identity::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        Ok(_) => Some(Identity::Path(
            std::fs::canonicalize(path).unwrap_or_else(|_| to_be_created(path)),
        )),
        Err(_) => Some(Identity::Path(to_be_created(path))),
    }
}

/// The canonical path a file that does not exist yet would be created at: a dangling
/// symlink followed, then its folder canonicalized (`./F`, `sub/../F` and `F` agree).
fn to_be_created(path: &Path) -> PathBuf {
    let mut path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    // As many links as the kernel follows (Linux's MAXSYMLINKS), so a loop ends.
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(folder) => folder.join(target),
            None => target,
        };
    }
    match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) => std::fs::canonicalize(folder)
            .map(|folder| folder.join(name))
            .unwrap_or(path),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::args::{parse, Parsed};

    fn refused(v: &[&str]) -> Result<(), String> {
        match parse(v.iter().map(OsString::from)) {
            Ok(Parsed::Run(args)) => refuse_overwriting(&args),
            _ => panic!("{v:?} did not parse"),
        }
    }

    #[test]
    fn urls_standard_input_and_devices_are_not_files_to_protect() {
        let url = "https://example.com/run.jsonl";
        assert!(refused(&["--image", url, "--record", url]).is_ok());
        assert!(refused(&["--prompt-file", "-", "--record", "-"]).is_ok());
        #[cfg(unix)]
        assert!(refused(&[
            "--repeat=2",
            "--record",
            "/dev/null",
            "--samples",
            "/dev/null"
        ])
        .is_ok());
        let err = refused(&[
            "--repeat=2",
            "--record",
            "a.jsonl",
            "--samples",
            "./a.jsonl",
        ]);
        assert_eq!(
            err.unwrap_err(),
            "--samples: ./a.jsonl is the same file as --record a.jsonl: one would overwrite the other; give them different files"
        );
    }
}
