//! The local server's secrets, created in the data directory on first use: the key that
//! signs local tokens and the key behind pseudonyms (person_ref, company keys).

use rand::RngCore;
use std::io;
use std::path::Path;

/// Reads a hex key file, creating it with 32 random bytes if absent.
pub fn load_or_create(data_dir: &Path, name: &str) -> io::Result<Vec<u8>> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut key = vec![0u8; 32];
            rand::rng().fill_bytes(&mut key);
            // create_new: two processes starting at once must not end up with two keys.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(hex::encode(&key).as_bytes())?;
                    f.sync_all()?;
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                    }
                    Ok(key)
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    load_or_create(data_dir, name)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

pub const SIGNING_KEY: &str = "local-signing-key";
pub const PSEUDONYM_KEY: &str = "pseudonym-key";
