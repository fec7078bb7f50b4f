#!/usr/bin/python3
"""Writes docs/api-reference.md from the comments in protos/slussen/v1/.

The proto comments are the API's documentation; this turns them into one
Markdown page: the services and their RPCs, then each file's messages and
enums with a table of their fields or values. It runs protoc (found on
PATH; Debian's protobuf-compiler) with --include_source_info and reads the
descriptor set with python3-protobuf, so it sees the comments as protoc
attaches them: the comment directly above an element, and one after it on
the same line. A comment parted from its element by a blank line is not
the element's and is left out.

Stable output: files sorted by path, within a file everything in
declaration order, no dates; a re-run on unchanged protos writes the same
bytes, so the ctest `api_reference` (label lint) can check it is fresh.

Usage:
  tools/api_reference.py           write docs/api-reference.md
  tools/api_reference.py --check   write nothing; exit 1 if
                                   docs/api-reference.md is stale
Exit status 2: protoc is missing or failed.
"""
import argparse
import difflib
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "protos"
API_DIR = "slussen/v1"  # Under PROTO_DIR, as the files import each other.
OUTPUT = "docs/api-reference.md"
COMMAND = "tools/api_reference.py"
DIFF_LINES = 40  # How much of the diff --check shows.

# Field numbers in descriptor.proto, which make up a comment's location
# path: [FILE_MESSAGE, 3, MESSAGE_FIELD, 0] is the 4th message's 1st field.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_SYNTAX = 4, 5, 6, 12
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, MESSAGE_ONEOF = 2, 3, 4, 8
ENUM_VALUE = 2
SERVICE_METHOD = 2

FDP = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    FDP.TYPE_DOUBLE: "double", FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64", FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32", FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32", FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string", FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32", FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64", FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}


class Failure(Exception):
    """A reason to stop that the user can act on (exit status 2)."""


# --- Reading the protos ------------------------------------------------------

def api_files():
    """The API's proto files, relative to PROTO_DIR, sorted."""
    files = sorted(path.relative_to(PROTO_DIR).as_posix()
                   for path in (PROTO_DIR / API_DIR).glob("*.proto"))
    if not files:
        raise Failure(f"no .proto files in protos/{API_DIR}")
    return files


def load_descriptors(files):
    """Runs protoc over `files` and returns its FileDescriptorSet."""
    protoc = shutil.which("protoc")
    if protoc is None:
        raise Failure("protoc is not on PATH (Debian: protobuf-compiler)")
    with tempfile.TemporaryDirectory(prefix="api_reference.") as tmp:
        out = pathlib.Path(tmp) / "api.pb"
        run = subprocess.run(
            [protoc, "--proto_path=.", "--include_source_info",
             "--include_imports", f"--descriptor_set_out={out}", *files],
            cwd=PROTO_DIR, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise Failure(f"protoc failed (exit {run.returncode}):\n"
                          f"{run.stderr}")
        descriptors = descriptor_pb2.FileDescriptorSet()
        descriptors.ParseFromString(out.read_bytes())
    return descriptors


class Comments:
    """The comments protoc attached to the elements of one file."""

    def __init__(self, file_proto):
        self._by_path = {tuple(loc.path): loc
                         for loc in file_proto.source_code_info.location}

    def of(self, path):
        """The leading and trailing comment of the element at `path`."""
        loc = self._by_path.get(tuple(path))
        if loc is None:
            return ""
        parts = [clean(loc.leading_comments), clean(loc.trailing_comments)]
        return "\n\n".join(part for part in parts if part)

    def line(self, path):
        """Where the element at `path` starts: (line, column)."""
        loc = self._by_path.get(tuple(path))
        return tuple(loc.span[:2]) if loc is not None else (0, 0)

    def of_file(self):
        """The comments above `syntax = ...`: the file's own."""
        loc = self._by_path.get((FILE_SYNTAX,))
        if loc is None:
            return ""
        parts = [clean(c) for c in loc.leading_detached_comments]
        parts.append(clean(loc.leading_comments))
        return "\n\n".join(part for part in parts if part)


def clean(comment):
    """A comment as protoc gives it, dedented, without blank edges."""
    lines = [line.rstrip() for line in comment.split("\n")]
    return textwrap.dedent("\n".join(lines)).strip("\n")


# --- Comments as Markdown ----------------------------------------------------

CODE_SPAN = re.compile(r"(`[^`]*`)")
# What starts a heading, quote, list or rule when it begins a line.
BLOCK_START = re.compile(r"^(#{1,6}(\s|$)|>|[-+*](\s|$)|[-=]+\s*$)")
ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])(\s|$)")


def escape_inline(text):
    """Escapes what Markdown would take for markup, outside code spans."""
    out = []
    for i, part in enumerate(CODE_SPAN.split(text)):
        if i % 2 == 1:  # A code span: shown as written.
            out.append(part)
            continue
        part = re.sub(r"([\\`*\[<~])", r"\\\1", part)
        part = re.sub(r"&(?=#?\w+;)", "&amp;", part)
        # An underscore emphasises only at a word's edge (not page_token's).
        part = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", part)
        out.append(part)
    return "".join(out)


def escape_line_start(line):
    """Keeps a comment's line from starting a heading, list or quote."""
    line = line.lstrip()
    if BLOCK_START.match(line):
        return "\\" + line
    return ORDERED_ITEM.sub(r"\1\\\2\3", line)


def paragraphs(text):
    """`text` split at blank lines, each paragraph a list of lines."""
    return [p.split("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def prose(text):
    """A comment as Markdown paragraphs, keeping its line breaks."""
    out = []
    for para in paragraphs(text):
        lines = escape_inline("\n".join(para)).split("\n")
        out.append("\n".join(escape_line_start(line) for line in lines))
    return "\n\n".join(out)


def cell(text):
    """A comment as the text of one Markdown table cell."""
    joined = [escape_inline(" ".join(line.strip() for line in para))
              for para in paragraphs(text)]
    return "<br><br>".join(joined).replace("|", "\\|")


# --- The page ----------------------------------------------------------------

class Page:
    """The reference of `files` (names in `descriptors`) as Markdown.

    Every service, RPC, message, enum and file has an HTML anchor named
    after its full name ("slussen.v1.Referral", "slussen/v1/referral.proto"),
    which types link to.
    """

    def __init__(self, descriptors, files):
        by_name = {f.name: f for f in descriptors.file}
        self.files = [by_name[name] for name in files]
        self.package = self.files[0].package
        self.types = set()  # Full names of our messages and enums.
        self.map_entries = {}  # Full name of a map's entry: the entry.
        for f in self.files:
            self._index(f.package, f.message_type, f.enum_type)
        self.lines = []

    def _index(self, scope, messages, enums):
        for enum in enums:
            self.types.add(f"{scope}.{enum.name}")
        for message in messages:
            full = f"{scope}.{message.name}"
            if message.options.map_entry:
                self.map_entries[full] = message
                continue
            self.types.add(full)
            self._index(full, message.nested_type, message.enum_type)

    def render(self):
        self.intro()
        self.contents()
        self.emit("## Services", "")
        for f in self.files:
            comments = Comments(f)
            for i, service in enumerate(f.service):
                self.service(f, service, comments, [FILE_SERVICE, i])
        self.emit("## Messages and enums", "")
        for f in self.files:
            self.file(f)
        return "\n".join(self.lines).rstrip("\n") + "\n"

    # Helpers.

    def emit(self, *lines):
        self.lines.extend(lines)

    def heading(self, level, anchor, text):
        self.emit(f'<a id="{anchor}"></a>', "", "#" * level + " " + text, "")

    def comment(self, text):
        if text:
            self.emit(prose(text), "")

    def short(self, full_name):
        """A type's name within the package: Referral, Outer.Inner."""
        prefix = self.package + "."
        if full_name.startswith(prefix):
            return full_name[len(prefix):]
        return full_name

    def link(self, full_name):
        return f"[{self.short(full_name)}](#{full_name})"

    def type_ref(self, type_name):
        """A message or enum: a link when it is ours, else its name."""
        full = type_name.lstrip(".")
        return self.link(full) if full in self.types else f"`{full}`"

    # The head of the page.

    def intro(self):
        self.emit(
            "# Slussen API reference", "",
            f"Generated from the comments in `protos/{API_DIR}/*.proto` by "
            f"`{COMMAND}` (or `./dev docs`): do not edit it by hand, change "
            "the comments and run it again. The lint test `api_reference` "
            "fails while this file is stale. Everything is in package "
            f"`{self.package}`; files come in the order of their names, and "
            "within a file in the order of declaration. The conventions "
            "every part follows (resource names, \"Output only\" and "
            "\"Required\", limits) are in "
            f"[{API_DIR}/common.proto](#{API_DIR}/common.proto). Not "
            "covered here: the standard health protocol "
            "(`protos/grpc/health/v1/`) and `google.rpc.Status` with the "
            "error details a failed call carries (`protos/google/rpc/`).",
            "")

    def contents(self):
        self.emit("## Contents", "", "Services:", "")
        for f in self.files:
            for service in f.service:
                self.emit(f"- {self.link(f'{f.package}.{service.name}')}")
        self.emit("", "Messages and enums, by file:", "")
        for f in self.files:
            self.emit(f"- [{f.name}](#{f.name})")
            messages, enums = [], []
            self._collect(f.package, f.message_type, f.enum_type,
                          messages, enums)
            if messages:
                self.emit("  - Messages: " + ", ".join(messages))
            if enums:
                self.emit("  - Enums: " + ", ".join(enums))
        self.emit("")

    def _collect(self, scope, messages, enums, message_links, enum_links):
        enum_links.extend(self.link(f"{scope}.{e.name}") for e in enums)
        for message in messages:
            full = f"{scope}.{message.name}"
            if full in self.types:
                message_links.append(self.link(full))
                self._collect(full, message.nested_type, message.enum_type,
                              message_links, enum_links)

    # Services.

    def service(self, f, service, comments, path):
        full = f"{f.package}.{service.name}"
        self.heading(3, full, f"service {service.name}")
        self.emit(f"In [{f.name}](#{f.name}).", "")
        self.comment(comments.of(path))
        for i, method in enumerate(service.method):
            self.heading(4, f"{full}.{method.name}", f"rpc {method.name}")
            self.emit(self.signature(method), "")
            self.comment(comments.of(path + [SERVICE_METHOD, i]))

    def signature(self, method):
        """Request → response, links, streaming marked."""
        request = self.type_ref(method.input_type)
        response = self.type_ref(method.output_type)
        streaming = []
        if method.client_streaming:
            request = "stream " + request
            streaming.append("client")
        if method.server_streaming:
            response = "stream " + response
            streaming.append("server")
        mark = f" ({' and '.join(streaming)} streaming)" if streaming else ""
        return f"{request} → {response}{mark}"

    # Files, messages and enums.

    def file(self, f):
        self.heading(3, f.name, f.name)
        self.emit(f"Source: [protos/{f.name}](../protos/{f.name})", "")
        comments = Comments(f)
        self.comment(comments.of_file())
        self.declarations(f.package, f.message_type, f.enum_type, comments,
                          [], FILE_MESSAGE, FILE_ENUM)

    def message(self, scope, message, comments, path):
        full = f"{scope}.{message.name}"
        if full not in self.types:  # A map's entry, shown as map<k, v>.
            return
        self.heading(4, full, f"message {self.short(full)}")
        self.comment(comments.of(path))
        if message.options.deprecated:
            self.emit("Deprecated.", "")
        self.fields(message, comments, path)
        self.declarations(full, message.nested_type, message.enum_type,
                          comments, path, MESSAGE_NESTED, MESSAGE_ENUM)

    def declarations(self, scope, messages, enums, comments, path,
                     message_tag, enum_tag):
        """Messages and enums in the order they are written in the file."""
        items = [(path + [message_tag, i], message)
                 for i, message in enumerate(messages)]
        items += [(path + [enum_tag, i], enum) for i, enum in enumerate(enums)]
        items.sort(key=lambda item: comments.line(item[0]))
        for item_path, item in items:
            if item_path[-2] == enum_tag:
                self.enum(scope, item, comments, item_path)
            else:
                self.message(scope, item, comments, item_path)

    def fields(self, message, comments, path):
        """The table of fields; a oneof gets a row before its members."""
        if not message.field:
            self.emit("No fields.", "")
            return
        self.emit("| Field | Number | Type | Description |",
                  "| --- | --- | --- | --- |")
        groups = oneof_groups(message)
        for i, field in enumerate(message.field):
            oneof = field.oneof_index if field.HasField("oneof_index") else None
            kind = self.field_type(field)
            if oneof in groups:
                name = message.oneof_decl[oneof].name
                if groups[oneof][0] is field:
                    self.oneof_row(name, groups[oneof],
                                   comments.of(path + [MESSAGE_ONEOF, oneof]))
                kind += f", in oneof `{name}`"
            text = cell(comments.of(path + [MESSAGE_FIELD, i]))
            if field.options.deprecated:
                text = ("Deprecated. " + text).strip()
            self.emit(f"| `{field.name}` | {field.number} | {kind} | {text} |")
        self.emit("")

    def oneof_row(self, name, members, comment):
        text = cell(comment)
        names = ", ".join(f"`{m.name}`" for m in members)
        text = (text + "<br><br>" if text else "") + f"One of {names}."
        self.emit(f"| oneof `{name}` | | | {text} |")

    def field_type(self, field):
        """`map<K, V>`, `repeated T`, `optional T` or the type `T`."""
        entry = self.map_entries.get(field.type_name.lstrip("."))
        if entry is not None:
            key, value = (self.plain_type(f) for f in entry.field)
            if key.startswith("`") and value.startswith("`"):  # Scalars.
                return f"`map<{key[1:-1]}, {value[1:-1]}>`"
            return f"map\\<{key}, {value}>"
        kind = self.plain_type(field)
        if field.label == FDP.LABEL_REPEATED:
            return "repeated " + kind
        if field.proto3_optional:
            return "optional " + kind
        return kind

    def plain_type(self, field):
        if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
            return self.type_ref(field.type_name)
        return f"`{SCALARS[field.type]}`"

    def enum(self, scope, enum, comments, path):
        full = f"{scope}.{enum.name}"
        self.heading(4, full, f"enum {self.short(full)}")
        self.comment(comments.of(path))
        self.emit("| Value | Number | Description |", "| --- | --- | --- |")
        for i, value in enumerate(enum.value):
            text = cell(comments.of(path + [ENUM_VALUE, i]))
            if value.options.deprecated:
                text = ("Deprecated. " + text).strip()
            self.emit(f"| `{value.name}` | {value.number} | {text} |")
        self.emit("")


def oneof_groups(message):
    """Each real oneof's index: its fields. proto3 `optional` makes a
    synthetic oneof of one field, which is no group."""
    groups = {}
    for field in message.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            groups.setdefault(field.oneof_index, []).append(field)
    return groups


# --- Command line ------------------------------------------------------------

def generate():
    files = api_files()
    return Page(load_descriptors(files), files).render().encode("utf-8")


def check(generated):
    """0 if OUTPUT holds `generated`; else says how it differs, 1."""
    path = ROOT / OUTPUT
    current = path.read_bytes() if path.exists() else None
    if current == generated:
        print(f"{OUTPUT} is up to date")
        return 0
    print(f"{OUTPUT} is stale: run {COMMAND}", file=sys.stderr)
    if current is None:
        print(f"({OUTPUT} does not exist)", file=sys.stderr)
        return 1
    diff = list(difflib.unified_diff(
        current.decode("utf-8", "replace").split("\n"),
        generated.decode("utf-8").split("\n"),
        f"{OUTPUT} (checked in)", f"{OUTPUT} (from the protos)",
        lineterm=""))
    if not diff:  # Only line endings or bytes the decoding hid differ.
        diff = ["(the files differ in line endings or encoding)"]
    print("\n".join(diff[:DIFF_LINES]), file=sys.stderr)
    if len(diff) > DIFF_LINES:
        print(f"... and {len(diff) - DIFF_LINES} more lines of diff",
              file=sys.stderr)
    return 1


def main(argv):
    parser = argparse.ArgumentParser(
        description=f"Write {OUTPUT} from the comments in protos/{API_DIR}/.")
    parser.add_argument(
        "--check", action="store_true",
        help=f"write nothing; exit 1 if {OUTPUT} is not what would be written")
    args = parser.parse_args(argv)
    try:
        generated = generate()
    except Failure as failure:
        print(f"{COMMAND}: {failure}", file=sys.stderr)
        return 2
    if args.check:
        return check(generated)
    path = ROOT / OUTPUT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(generated)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
