"""The snapshot JSON Schema as shipped, and validators for its root or one of its $defs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "src/feed/publish/snapshot.schema.json").read_text())


def validator(definition: str | None = None) -> jsonschema.Draft202012Validator:
    """A validator for the snapshot root, or for one of its $defs."""
    schema = (
        SCHEMA
        if definition is None
        else {
            **SCHEMA,
            "$ref": f"#/$defs/{definition}",
            "required": [],
            "properties": {},
            "additionalProperties": True,
            "type": "object",
        }
    )
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
