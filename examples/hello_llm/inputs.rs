//! What the flags point to, read: the prompt (from a file or standard input), the
//! tools, the response schema and the images; and the request made of them.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use theory_llm::embed::EmbedRequest;
use theory_llm::{ChatRequest, Image, Message, ResponseFormat, Tool};

use crate::args::{Args, Prompt, Target};

/// The request's parts, read.
#[derive(Debug)]
pub(crate) struct Inputs {
    pub(crate) prompt: String,
    tools: Vec<Tool>,
    format: Option<ResponseFormat>,
    images: Vec<Image>,
}

impl Inputs {
    /// Reads what `args` points to; the message says which flag was wrong.
    pub(crate) fn load(args: &Args) -> Result<Inputs, String> {
        let format = match (&args.json_schema_file, args.json_object) {
            (Some(path), _) => Some(read_schema(path)?),
            (None, true) => Some(ResponseFormat::JsonObject),
            (None, false) => None,
        };
        Ok(Inputs {
            prompt: prompt_text(&args.prompt)?,
            tools: match &args.tools_file {
                Some(path) => read_tools(path)?,
                None => Vec::new(),
            },
            format,
            images: args
                .images
                .iter()
                .map(|i| image(i))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether the reply is to be JSON (`--json-schema`, `--json-object`).
    pub(crate) fn structured(&self) -> bool {
        self.format.is_some()
    }

    /// The embedding request for `target` (`--embed`): the prompt given with `--prompt`
    /// is one input; a `--prompt-file`'s non-empty lines are one input each.
    pub(crate) fn embed_request(&self, args: &Args, target: &Target) -> EmbedRequest {
        let inputs: Vec<String> = match args.prompt {
            Prompt::Text(_) => vec![self.prompt.clone()],
            Prompt::File(_) => self
                .prompt
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let mut request = EmbedRequest::new(inputs).timeouts(args.timeouts);
        if let Some(m) = target.model.as_ref().or(args.model.as_ref()) {
            request = request.model(m.clone());
        }
        if let Some(n) = args.dimensions {
            request = request.dimensions(n);
        }
        if let Some(n) = args.max_retries {
            request = request.max_retries(n);
        }
        request
    }

    /// The request for `target`.
    pub(crate) fn request(&self, args: &Args, target: &Target) -> ChatRequest {
        let mut user = Message::user(self.prompt.clone());
        for image in &self.images {
            user = user.image(image.clone());
        }
        let mut req = ChatRequest::default()
            .message(user)
            .timeouts(args.timeouts)
            .tools(self.tools.clone());
        if let Some(m) = target.model.as_ref().or(args.model.as_ref()) {
            req = req.model(m.clone());
        }
        if let Some(s) = &args.system {
            req = req.system(s.clone());
        }
        if let Some(t) = args.temperature {
            req = req.temperature(t);
        }
        if let Some(n) = args.max_tokens {
            req = req.max_tokens(n);
        }
        if let Some(s) = args.seed {
            req = req.seed(s);
        }
        if let Some(n) = args.max_retries {
            req = req.max_retries(n);
        }
        if let Some(choice) = &args.tool_choice {
            req = req.tool_choice(choice.clone());
        }
        if let Some(format) = &self.format {
            req = req.response_format(format.clone());
        }
        req
    }
}

/// The most each input file may hold; past it a file is refused, having read no more
/// than one byte over. A tools file or a schema: far above any real one.
const JSON_FILE_CAP: u64 = 4 << 20;
/// A prompt: more text than any model's context window holds.
const PROMPT_CAP: u64 = 16 << 20;
/// An image: the largest any provider takes (OpenAI's 20 MB an image; Anthropic's API
/// takes 5 MB).
const IMAGE_CAP: u64 = 20 << 20;

/// The prompt's text: the flag's, or the file's (`-`: standard input).
fn prompt_text(prompt: &Prompt) -> Result<String, String> {
    match prompt {
        Prompt::Text(text) => Ok(text.clone()),
        Prompt::File(path) => {
            let bytes = if path.as_os_str() == "-" {
                read_capped(
                    "--prompt-file",
                    "standard input",
                    std::io::stdin(),
                    PROMPT_CAP,
                )?
            } else {
                read("--prompt-file", path, PROMPT_CAP)?
            };
            String::from_utf8(bytes)
                .map_err(|_| format!("--prompt-file: {} is not UTF-8 text", path.display()))
        }
    }
}

/// The file `flag` names, up to `cap` bytes.
fn read(flag: &str, path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    read_capped(flag, &path.display().to_string(), file, cap)
}

/// All of `source` (`name` in messages), or an error if it holds more than `cap` bytes:
/// reads at most `cap + 1`, so an endless source (`/dev/zero`, a pipe) ends promptly.
fn read_capped(flag: &str, name: &str, source: impl Read, cap: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    source
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{flag}: cannot read {name}: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!(
            "{flag}: {name} is larger than {}, the most hello_llm reads for {flag}",
            size(cap)
        ));
    }
    Ok(bytes)
}

/// `4 MiB`, or `1000 bytes`.
fn size(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{bytes} bytes"),
    }
}

fn read_json(flag: &str, path: &Path) -> Result<Value, String> {
    serde_json::from_slice(&read(flag, path, JSON_FILE_CAP)?)
        .map_err(|e| format!("{flag}: {} is not JSON ({e})", path.display()))
}

/// A JSON array of tools: `{"name", "description", "parameters", "strict"?}`, or
/// OpenAI's `{"type": "function", "function": {...}}`.
fn read_tools(path: &Path) -> Result<Vec<Tool>, String> {
    let Value::Array(items) = read_json("--tools", path)? else {
        return Err(format!(
            "--tools: {} is not a JSON array of tools",
            path.display()
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let spec = item.get("function").unwrap_or(item);
            let name = spec["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("--tools: tool {i} in {} has no name", path.display()))?;
            let description = spec["description"].as_str().unwrap_or("");
            let parameters = spec.get("parameters").cloned().unwrap_or(Value::Null);
            if !(parameters.is_object() || parameters.is_null()) {
                return Err(format!(
                    "--tools: the parameters of '{name}' are not a JSON Schema object"
                ));
            }
            let tool = Tool::new(name, description, parameters);
            Ok(match spec["strict"].as_bool() {
                Some(true) => tool.strict(),
                _ => tool,
            })
        })
        .collect()
}

/// A JSON Schema (named after the file), or OpenAI's `{"name", "schema", "strict"}`.
fn read_schema(path: &Path) -> Result<ResponseFormat, String> {
    let value = read_json("--json-schema", path)?;
    if !value.is_object() {
        return Err(format!(
            "--json-schema: {} is not a JSON Schema object",
            path.display()
        ));
    }
    if let (Some(name), Some(schema)) = (value["name"].as_str(), value.get("schema")) {
        if value["strict"] == true {
            return Ok(ResponseFormat::strict_json_schema(name, schema));
        }
        return Ok(ResponseFormat::json_schema(name, schema.clone()));
    }
    let name = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy().replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
                "_",
            )
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "reply".to_owned());
    Ok(ResponseFormat::json_schema(name, value))
}

/// The file an `--image` names; `None` for a URL (`http`, `https`, `data:`).
pub(crate) fn image_path(spec: &str) -> Option<&Path> {
    let url =
        spec.starts_with("http://") || spec.starts_with("https://") || spec.starts_with("data:");
    (!url).then(|| Path::new(spec))
}

/// A URL, or a file whose extension says its type.
fn image(spec: &str) -> Result<Image, String> {
    let Some(path) = image_path(spec) else {
        return Ok(Image::url(spec));
    };
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let media_type = match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => {
            return Err(format!(
                "--image: cannot tell the type of {spec}: use a .png, .jpg, .gif or .webp file, or a URL"
            ))
        }
    };
    Ok(Image::bytes(media_type, read("--image", path, IMAGE_CAP)?))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::args::{parse, Parsed};

    fn run_args(v: &[&str]) -> Args {
        match parse(v.iter().map(OsString::from)) {
            Ok(Parsed::Run(a)) => *a,
            _ => panic!("{v:?} did not parse"),
        }
    }

    fn prompt(a: &Args) -> Result<String, String> {
        Inputs::load(a).map(|i| i.prompt)
    }

    #[test]
    fn tools_schemas_and_images_are_read_from_their_files() {
        let dir = std::env::temp_dir().join(format!("hello_llm_inputs_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tools = dir.join("tools.json");
        std::fs::write(
            &tools,
            r#"[{"name": "a", "description": "A", "parameters": {"type": "object"}},
                {"type": "function", "function": {"name": "b", "strict": true, "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}}]"#,
        )
        .unwrap();
        let schema = dir.join("person.json");
        std::fs::write(
            &schema,
            r#"{"type": "object", "properties": {"name": {"type": "string"}}}"#,
        )
        .unwrap();
        let png = dir.join("dot.png");
        std::fs::write(&png, [1, 2, 3]).unwrap();
        let a = run_args(&[
            "--tools",
            tools.to_str().unwrap(),
            "--tool-choice",
            "b",
            "--json-schema",
            schema.to_str().unwrap(),
            "--image",
            png.to_str().unwrap(),
            "--image",
            "https://example.com/a.jpg",
        ]);
        let inputs = Inputs::load(&a).unwrap();
        let request = inputs.request(&a, &a.targets[0]);
        assert_eq!(request.tools.len(), 2);
        assert_eq!(request.tools[1].strict, Some(true));
        assert_eq!(request.tools[1].parameters["additionalProperties"], false);
        assert!(
            matches!(&request.response_format, Some(ResponseFormat::JsonSchema { name, .. }) if name == "person")
        );
        assert_eq!(request.messages[0].images.len(), 2);
        assert!(request.validate().is_ok());
        for bad in [
            vec!["--tools", schema.to_str().unwrap()],
            vec!["--json-schema", tools.to_str().unwrap()],
            vec!["--image", "picture.bmp"],
            vec!["--image", dir.join("missing.png").to_str().unwrap()],
        ] {
            assert!(Inputs::load(&run_args(&bad)).is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_prompt_comes_from_a_flag_or_a_file() {
        let dir = std::env::temp_dir().join(format!("hello_llm_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("prompt.txt");
        let long = "word ".repeat(200_000); // larger than many OS argument limits
        std::fs::write(&path, &long).unwrap();
        let a = run_args(&["--prompt-file", path.to_str().unwrap()]);
        assert_eq!(prompt(&a).unwrap(), long);
        let a = run_args(&["--prompt-file", dir.join("missing").to_str().unwrap()]);
        assert!(prompt(&a).unwrap_err().contains("cannot read"));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let a = run_args(&["--prompt-file", path.to_str().unwrap()]);
        assert!(prompt(&a).unwrap_err().contains("UTF-8"));
        assert!(parse(["--prompt", "a", "--prompt-file", "b"].map(OsString::from)).is_err());
        assert_eq!(prompt(&run_args(&[])).unwrap(), "Hello");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_exactly_its_cap_is_read() {
        let dir = std::env::temp_dir().join(format!("hello_llm_cap_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tools = dir.join("tools.json");
        let mut array = vec![b' '; JSON_FILE_CAP as usize];
        (array[0], array[JSON_FILE_CAP as usize - 1]) = (b'[', b']');
        std::fs::write(&tools, &array).unwrap();
        let prompt = dir.join("prompt.txt");
        std::fs::write(&prompt, vec![b'a'; PROMPT_CAP as usize]).unwrap();
        let png = dir.join("big.png");
        std::fs::File::create(&png)
            .unwrap()
            .set_len(IMAGE_CAP)
            .unwrap();
        let a = run_args(&[
            "--tools",
            tools.to_str().unwrap(),
            "--prompt-file",
            prompt.to_str().unwrap(),
            "--image",
            png.to_str().unwrap(),
        ]);
        let inputs = Inputs::load(&a).unwrap();
        assert_eq!(inputs.prompt.len() as u64, PROMPT_CAP);
        assert!(inputs.tools.is_empty());
        assert!(
            matches!(&inputs.images[0], Image::Bytes { data, .. } if data.len() as u64 == IMAGE_CAP)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_endless_standard_input_is_refused_after_the_cap() {
        // What `--prompt-file -` reads when stdin never ends (`yes | hello_llm ...`).
        let endless = std::io::repeat(b'y');
        let err = read_capped("--prompt-file", "standard input", endless, 1000).unwrap_err();
        assert_eq!(
            err,
            "--prompt-file: standard input is larger than 1000 bytes, the most hello_llm reads for --prompt-file"
        );
        let mut counted = CountingReader(std::io::repeat(b'y'), 0);
        assert!(read_capped("--tools", "x", &mut counted, 1000).is_err());
        assert_eq!(counted.1, 1001, "read one byte past the cap, no more");
        assert_eq!(
            read_capped("--tools", "x", &b"12345"[..], 5).unwrap(),
            b"12345"
        );
    }

    /// A reader that counts the bytes taken from it.
    struct CountingReader<R>(R, usize);
    impl<R: Read> Read for CountingReader<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn benchmark_targets() {
        let a = run_args(&[
            "--provider",
            "ollama=qwen2.5:0.5b, openai",
            "--model",
            "m",
            "--repeat",
            "3",
            "--concurrency",
            "2",
        ]);
        assert_eq!(a.targets.len(), 2);
        assert_eq!(
            Inputs::load(&a)
                .unwrap()
                .request(&a, &a.targets[0])
                .model
                .as_deref(),
            Some("qwen2.5:0.5b")
        );
        assert_eq!(
            Inputs::load(&a)
                .unwrap()
                .request(&a, &a.targets[1])
                .model
                .as_deref(),
            Some("m")
        );
        assert_eq!((a.repeat, a.concurrency), (Some(3), 2));
    }
}
