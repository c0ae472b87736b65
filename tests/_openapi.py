"""The repository's OpenAPI document, used to check real answers against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = ["DOCUMENT_PATH", "OpenAPI", "Operation"]

DOCUMENT_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
_URI = "urn:bgref:openapi"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _pointer(*parts: str) -> str:
    # JSON Pointer (RFC 6901): "~" and "/" inside a part are escaped.
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Operation:
    """One documented method on one path, with its parameters resolved."""

    path: str
    method: str
    parameters: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        """``POST /send-message/``, for test ids and messages."""
        return f"{self.method.upper()} {self.path}"


class OpenAPI:
    """An OpenAPI 3.0 document whose schemas validate answers, ``$ref``s resolved."""

    def __init__(self, path: Path = DOCUMENT_PATH) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        # OpenAPI 3.0 schemas are a dialect of JSON Schema draft 4/5; the whole
        # document is one resource so that "#/components/..." references resolve.
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.split("/")[1:]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        # Response and parameter objects may be references too (not only schemas).
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not (isinstance(ref, str) and ref.startswith("#/")):
                raise ValueError(f"only local $refs are supported, not {ref!r}")
            assert ref not in seen, f"$ref cycle at {ref!r}"
            seen.add(ref)
            pointer = ref[1:]
            node = self._at(pointer)
        return node, pointer

    def operations(self) -> list[Operation]:
        """Every documented operation, in document order."""
        found = []
        for path, item in self.document["paths"].items():
            for method in _METHODS:
                if method not in item:
                    continue
                operation = item[method]
                parameters = tuple(
                    self._resolve(param, _pointer("paths", path, method, "parameters", str(i)))[0]
                    for i, param in enumerate(operation.get("parameters", ()))
                )
                found.append(Operation(path, method, parameters))
        return found

    def documented_statuses(self, operation: Operation) -> list[str]:
        """The response keys documented for ``operation`` (``"200"``, ``"4XX"``, ``"default"``)."""
        return list(self.document["paths"][operation.path][operation.method]["responses"])

    def check_response(self, operation: Operation, response: httpx.Response) -> None:
        """Assert that ``response`` is documented for ``operation``: status, media type, schema."""
        where = _pointer("paths", operation.path, operation.method, "responses")
        responses = self._at(where)
        status = str(response.status_code)
        key = next(
            (k for k in (status, f"{status[0]}XX", "default") if k in responses),
            None,
        )
        assert key is not None, (
            f"{operation.label} answered {status}, not documented ({sorted(responses)}): "
            f"{response.text[:300]!r}"
        )
        documented, pointer = self._resolve(responses[key], f"{where}{_pointer(key)}")
        content = documented.get("content", {})
        media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        assert media_type in content, (
            f"{operation.label} {status}: Content-Type {media_type!r}, "
            f"documented: {sorted(content)}"
        )
        if "schema" not in content[media_type]:
            return
        schema_ref = f"{_URI}#{pointer}{_pointer('content', media_type, 'schema')}"
        validator = Draft4Validator({"$ref": schema_ref}, registry=self._registry)
        body = response.json()
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
        assert not errors, (
            f"{operation.label} {status}: body {body!r} does not match the documented schema: "
            + "; ".join(error.message for error in errors)
        )
