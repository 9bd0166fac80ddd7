"""The `Block` base class: typed configuration stored encrypted by the control plane.

A subclass declares fields as annotations; `SecretStr`/`SecretDict` fields are secret (masked
on the server's reads, revealed only to callers with `blocks:reveal` and to runs whose
deployment references the block). Loading a block registers its secret values for redaction
from the run's logs.
"""

from __future__ import annotations

import contextlib
import re
import typing
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tether._redaction import register_secret
from tether.blocks.fields import MASK, is_secret_annotation, json_schema, optional_inner, to_field_value, to_json_value
from tether.exceptions import APIError, TetherException

if TYPE_CHECKING:
    from tether._api import Client

_MISSING: Any = object()
_TEMPLATE = re.compile(r"^\{\{\s*block\.([a-z0-9][a-z0-9_-]*)\.([^\s{}]+?)\s*\}\}$")
_SLASHED = re.compile(r"^([a-z0-9][a-z0-9_-]*)/([^\s{}/]+)$")
_BARE_NAME = re.compile(r"^[^\s{}/]+$")


class BlockError(TetherException):
    """A block could not be loaded, saved or registered; the message says why."""


class BlockNotFound(BlockError):
    """No such block in the workspace, or this credential may not reveal it."""


class BlockAlreadyExists(BlockError):
    """`save(name)` without `overwrite=True` found a block of that name."""


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


class Block:
    """Base class of block types. Declare fields as annotations (defaults allowed):

    ```python
    class Warehouse(Block):
        _block_type_slug = "warehouse"
        host: str
        port: int = 5432
        password: SecretStr
    ```

    `Warehouse(host=..., password=...).save("prod")`, `Warehouse.load("prod")`, and
    `tether block register module:Warehouse` (or `Warehouse.register_type()`) to create or
    update the type on the server.
    """

    _block_type_slug: ClassVar[str] = ""
    _block_type_name: ClassVar[str] = ""
    _description: ClassVar[str] = ""
    _icon: ClassVar[str] = ""
    _version: ClassVar[str] = "1"
    # Built into the server (docs/blocks.md): never registered from the SDK.
    _standard: ClassVar[bool] = False
    _fields: ClassVar[dict[str, tuple[Any, Any]]] = {}  # name → (annotation, default or _MISSING)

    _block_document_id: str | None
    _block_document_name: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except NameError as exc:
            raise TypeError(f"{cls.__name__}: a field's annotation names something not importable: {exc}") from exc
        fields: dict[str, tuple[Any, Any]] = {}
        for name, annotation in hints.items():
            if name.startswith("_") or typing.get_origin(annotation) is ClassVar or annotation is ClassVar:
                continue
            json_schema(annotation, where=f"{cls.__name__}.{name}")  # refuse unsupported types at definition
            default = getattr(cls, name, _MISSING)
            if default is _MISSING and optional_inner(annotation)[1]:
                default = None
            fields[name] = (annotation, default)
        cls._fields = fields
        if not cls.__dict__.get("_block_type_slug"):
            cls._block_type_slug = _kebab(cls.__name__)
        if not cls.__dict__.get("_block_type_name"):
            cls._block_type_name = cls.__name__
        if not cls.__dict__.get("_description") and cls.__doc__:
            cls._description = cls.__doc__.strip().split("\n\n", 1)[0]

    def __init__(self, **data: Any) -> None:
        unknown = sorted(set(data) - set(self._fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(unknown)}.")
        for name, (annotation, default) in self._fields.items():
            value = data.get(name, default)
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__} needs {name!r}.")
            setattr(self, name, to_field_value(annotation, value))
        self._block_document_id = None
        self._block_document_name = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.block_data() == other.block_data()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    # --- schema and data --------------------------------------------------------------

    @classmethod
    def block_schema(cls) -> dict[str, Any]:
        """The type's JSON Schema, as the server stores it (secret fields marked)."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, (annotation, default) in cls._fields.items():
            prop = {"title": name.replace("_", " ").capitalize(), **json_schema(annotation, where=name)}
            if default is _MISSING:
                required.append(name)
            elif default is not None and not isinstance(default, list | dict):
                prop["default"] = to_json_value(default)
            properties[name] = prop
        return {"type": "object", "properties": properties, "required": required}

    @classmethod
    def secret_fields(cls) -> list[str]:
        return sorted(name for name, (annotation, _) in cls._fields.items() if is_secret_annotation(annotation))

    def block_data(self) -> dict[str, Any]:
        """The fields as JSON, secrets in clear (what `save` sends); None values left out."""
        data = {name: to_json_value(getattr(self, name)) for name in self._fields}
        return {name: value for name, value in data.items() if value is not None}

    @classmethod
    def _from_block_data(cls, data: dict[str, Any]) -> Self:
        # Fields the server has that this class does not declare (an older class) are ignored.
        return cls(**{name: value for name, value in data.items() if name in cls._fields})

    # --- the control plane ------------------------------------------------------------

    @classmethod
    def load(cls, name: str, *, client: Client | None = None) -> Self:
        """The block of this type called `name`, secrets in clear (needs `blocks:reveal`, or a run
        whose deployment references the block). Its secret values are redacted from run logs."""
        with _session(client) as api:
            document = _find(api, cls._block_type_slug, name)
            if document is None:
                raise BlockNotFound(f"No {cls._block_type_slug} block named {name!r} in this workspace.")
            block = cls._from_block_data(reveal_document(api, document))
        block._block_document_id = str(document["id"])
        block._block_document_name = name
        return block

    def save(self, name: str, *, overwrite: bool = False, client: Client | None = None) -> str:
        """Store this block as `name` (registering a custom type first if the server lacks it);
        the block's id. An existing block of that name is replaced only with `overwrite=True`."""
        slug = self._block_type_slug
        with _session(client) as api:
            if not self._standard and not _find_type(api, slug):
                type(self).register_type(client=api)
            existing = _find(api, slug, name)
            if existing is None:
                try:
                    body = {"block_type_slug": slug, "name": name, "data": self.block_data()}
                    created = api.request("POST", "blocks/", json=body).json()
                    document_id = str(created["id"])
                except APIError as exc:
                    if exc.status_code != 409:
                        raise
                    existing = _find(api, slug, name)  # created meanwhile by someone else
                    if existing is None:
                        raise
            if existing is not None:
                if not overwrite:
                    raise BlockAlreadyExists(
                        f"A {slug} block named {name!r} already exists; pass overwrite=True to replace it."
                    )
                document_id = str(existing["id"])
                api.request("PATCH", f"blocks/{document_id}/", json={"data": self.block_data()}, retry_for=10)
        self._block_document_id, self._block_document_name = document_id, name
        return document_id

    @classmethod
    def delete(cls, name: str, *, client: Client | None = None) -> None:
        with _session(client) as api:
            document = _find(api, cls._block_type_slug, name)
            if document is None:
                raise BlockNotFound(f"No {cls._block_type_slug} block named {name!r} in this workspace.")
            api.request("DELETE", f"blocks/{document['id']}/", retry_for=10)

    @classmethod
    def register_type(cls, *, client: Client | None = None) -> dict[str, Any]:
        """Create this block type on the server, or update its name, description, icon, schema and
        version. Existing blocks are not re-validated. Needs `blocks:write`."""
        if cls._standard or cls is Block:
            raise BlockError(f"{cls._block_type_slug!r} is a standard block type: the server has it built in.")
        body = {
            "name": cls._block_type_name,
            "description": cls._description,
            "icon": cls._icon,
            "schema": cls.block_schema(),
            "version": cls._version,
        }
        with _session(client) as api:
            existing = _find_type(api, cls._block_type_slug)
            if existing is None:
                result = api.request("POST", "block-types/", json={"slug": cls._block_type_slug, **body}).json()
            elif existing.get("is_standard"):
                raise BlockError(f"{cls._block_type_slug!r} is a standard block type's slug; choose another.")
            else:
                result = api.request("PATCH", f"block-types/{existing['id']}/", json=body, retry_for=10).json()
        registered: dict[str, Any] = result
        return registered


@contextlib.contextmanager
def _session(client: Client | None) -> Iterator[Client]:
    if client is not None:
        yield client
        return
    from tether._api import Client

    created = Client.from_env()
    if created is None:
        raise BlockError("Blocks live on the control plane: set TETHER_API_URL (the workspace URL) and TETHER_API_KEY.")
    with created:
        yield created


def _find(api: Client, slug: str, name: str) -> dict[str, Any] | None:
    page = api.get("blocks/", params={"block_type_slug": slug, "name": name})
    results: list[dict[str, Any]] = page.get("results", [])
    return results[0] if results else None


def _find_type(api: Client, slug: str) -> dict[str, Any] | None:
    page = api.get("block-types/", params={"slug": slug})
    results: list[dict[str, Any]] = page.get("results", [])
    return results[0] if results else None


def _register_revealed(masked: Any, revealed: Any) -> None:
    """Register for redaction what the masked read hid: masked values and resolved references."""
    if masked == MASK or (isinstance(masked, dict) and set(masked) == {"$ref"}):
        register_secret(revealed)
    elif isinstance(masked, dict) and isinstance(revealed, dict):
        for key, value in masked.items():
            if key in revealed:
                _register_revealed(value, revealed[key])


def reveal_document(api: Client, document: dict[str, Any]) -> dict[str, Any]:
    """The plaintext of a block read from the API (`document` is its masked read)."""
    label = f"{(document.get('block_type') or {}).get('slug', 'block')}/{document.get('name')}"
    try:
        revealed = api.post(f"blocks/{document['id']}/reveal/", None, retry_for=10)
    except APIError as exc:
        if exc.status_code == 404:
            raise BlockNotFound(
                f"Block {label} may not be revealed with this credential: a run reveals only the blocks "
                "its deployment references (source.credentials_block, job_variables)."
            ) from None
        if exc.status_code == 403:
            raise BlockError(f"Revealing block {label} needs the blocks:reveal scope.") from None
        raise
    data: dict[str, Any] = revealed["data"]
    _register_revealed(document.get("data") or {}, data)
    return data


def reveal_reference(
    reference: str, *, default_type: str | None = None, client: Client | None = None
) -> dict[str, Any]:
    """The plaintext data of the block a deployment's reference names: `type-slug/name`,
    `{{ block.type-slug.name }}`, a block id, or a bare name of `default_type`."""
    text = reference.strip()
    with _session(client) as api:
        try:
            document_id = uuid.UUID(text)
        except ValueError:
            match = _TEMPLATE.match(text) or _SLASHED.match(text)
            if match:
                slug, name = match.group(1), match.group(2)
            elif default_type and _BARE_NAME.match(text):
                slug, name = default_type, text
            else:
                raise BlockError(f"{reference!r} is not a block reference (type-slug/name or a block id).") from None
            document = _find(api, slug, name)
            if document is None:
                raise BlockNotFound(f"No {slug} block named {name!r} in this workspace.") from None
        else:
            try:
                document = api.get(f"blocks/{document_id}/", retry_for=10)
            except APIError as exc:
                if exc.status_code == 404:
                    raise BlockNotFound(f"No block with id {document_id} in this workspace.") from None
                raise
        return reveal_document(api, document)
