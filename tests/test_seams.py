"""Where the packages meet, the signatures say what crosses: no `Any` there.

For every module of `keystore`, `webcrypt` and `portal`, the names it takes from
another of the three packages are found in its source (``from x import y``, and
``module.attribute`` after an import of the module) and looked up. Their
annotations are read: a function's parameters and return; a class's attributes
(declared in the class or set in ``__init__``) and the parameters and returns of
its public methods; a module attribute's declared type. A class of another
package named in those annotations is part of the seam too (what `Runtime.config`
is, portal uses as well), and so on. Every one that mentions ``typing.Any``,
directly or through an alias, is listed.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import sys
import textwrap
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("keystore", "webcrypt", "portal")
# Dunder methods that are part of a class's interface; other dunders are Python's own.
INTERFACE_DUNDERS = {
    "__init__",
    "__call__",
    "__enter__",
    "__exit__",
    "__iter__",
    "__getitem__",
    "__getattr__",
}


def package_modules() -> Iterator[tuple[str, Path]]:
    """Yield (module name, path) for every module of the three packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def is_module(name: str) -> bool:
    """Tell whether the dotted `name` is one of our modules or packages."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_of(thing: object) -> str:
    """Return which of the three packages defines `thing` ("" for none of them)."""
    top = str(getattr(thing, "__module__", "")).split(".")[0]
    return top if top in PACKAGES else ""


def dotted(node: ast.AST) -> str | None:
    """Return ``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def foreign_uses(module: str, tree: ast.Module) -> set[tuple[str, str]]:
    """Return (providing module, name) for what `module` takes from the other packages."""
    own = module.split(".")[0]

    def foreign(name: str) -> bool:
        return name.split(".")[0] in PACKAGES and name.split(".")[0] != own

    uses: set[tuple[str, str]] = set()
    module_aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not foreign(node.module):
                continue
            for alias in node.names:
                if is_module(f"{node.module}.{alias.name}"):
                    module_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                else:
                    uses.add((node.module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if foreign(alias.name):
                    local = alias.asname or alias.name.split(".")[0]
                    module_aliases[local] = alias.name if alias.asname else local
    for node in ast.walk(tree):
        chain = dotted(node) if isinstance(node, ast.Attribute) else None
        if chain is None or chain.partition(".")[0] not in module_aliases:
            continue
        head, _, rest = chain.partition(".")
        target = f"{module_aliases[head]}.{rest}"
        provider, _, name = target.rpartition(".")
        if is_module(provider) and not is_module(target):
            uses.add((provider, name))
    return uses


@functools.cache
def import_map(module: str) -> dict[str, str]:
    """Map each name a module imports (also under TYPE_CHECKING) to its dotted origin."""
    source = inspect.getsource(sys.modules[module])
    names: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
    return names


def load(target: str) -> object | None:
    """Return the object a dotted name refers to (a module, or an attribute of one)."""
    try:
        return importlib.import_module(target)
    except ImportError:
        pass
    parent, _, name = target.rpartition(".")
    try:
        return getattr(importlib.import_module(parent), name, None)
    except ImportError:
        return None


def resolve(chain: str, module: str) -> object | None:
    """Return what the dotted `chain` means inside `module`, or None."""
    head, *rest = chain.split(".")
    namespace = vars(sys.modules[module])
    if head in namespace:
        found: object | None = namespace[head]
    elif head in import_map(module):
        found = load(import_map(module)[head])
    else:
        return None
    for part in rest:
        found = getattr(found, part, None)
    return found


def mentions_any(annotation: object, module: str) -> bool:
    """Tell whether an annotation (an object or a postponed string) involves `Any`."""
    if annotation is typing.Any:
        return True
    if isinstance(annotation, str):
        return expression_mentions_any(ast.parse(annotation, mode="eval").body, module)
    if isinstance(annotation, typing.ForwardRef):
        return mentions_any(annotation.__forward_arg__, module)
    if isinstance(annotation, type):
        return False
    return any(mentions_any(argument, module) for argument in typing.get_args(annotation))


def expression_mentions_any(node: ast.expr, module: str) -> bool:
    """Tell whether an annotation expression names `Any` or an alias that holds it."""
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and part.id == "Any":
            return True
        if isinstance(part, ast.Attribute) and part.attr == "Any":
            return True
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            if mentions_any(part.value, module):
                return True
        elif isinstance(part, ast.Name):
            value = resolve(part.id, module)
            alias = not (value is None or inspect.isclass(value) or inspect.ismodule(value))
            if alias and not callable(value) and mentions_any(value, module):
                return True
    return False


def classes_named(annotation: object, module: str) -> set[type]:
    """Return our classes that an annotation names (to follow them across the seam)."""
    found: set[type] = set()
    if isinstance(annotation, str):
        for part in ast.walk(ast.parse(annotation, mode="eval").body):
            chain = dotted(part)
            value = resolve(chain, module) if chain else None
            if inspect.isclass(value) and package_of(value):
                found.add(value)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                found |= classes_named(part.value, module)
    elif inspect.isclass(annotation):
        if package_of(annotation):
            found.add(annotation)
    else:
        for argument in typing.get_args(annotation):
            found |= classes_named(argument, module)
    return found


@dataclass(frozen=True)
class Member:
    """One named thing at a seam and the annotations that describe it."""

    name: str
    module: str
    annotations: tuple[object, ...]


def function_member(name: str, function: Callable[..., object]) -> Member:
    """Describe a function by its parameter and return annotations."""
    function = inspect.unwrap(function)
    annotations = getattr(function, "__annotations__", {})
    return Member(name, function.__module__, tuple(annotations.values()))


def init_attributes(cls: type) -> Iterator[tuple[str, str]]:
    """Yield (attribute, annotation text) for the public attributes `__init__` sets."""
    init = vars(cls).get("__init__")
    if not inspect.isfunction(init):
        return
    try:
        source = inspect.getsource(init)
    except OSError:  # generated (a dataclass's): its fields are the class annotations
        return
    tree = ast.parse(textwrap.dedent(source))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    parameters = {
        argument.arg: ast.unparse(argument.annotation)
        for argument in [*function.args.args, *function.args.kwonlyargs]
        if argument.annotation is not None
    }
    for node in ast.walk(function):
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, annotation = [node.target], ast.unparse(node.annotation)
        elif isinstance(node, ast.Assign):
            value = node.value
            if isinstance(value, ast.Name) and value.id in parameters:
                annotation = parameters[value.id]
            elif isinstance(value, ast.Call) and dotted(value.func):
                annotation = str(dotted(value.func))  # the class it builds, when it is one
            else:
                continue
            targets = node.targets
        else:
            continue
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ):
                yield target.attr, annotation


def class_members(cls: type) -> Iterator[Member]:
    """Describe the public interface of `cls`: attributes, methods, properties."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not package_of(klass):
            continue
        prefix = f"{klass.__module__}.{klass.__qualname__}"
        declared = dict(vars(klass).get("__annotations__", {}))
        for name, text in init_attributes(klass):
            declared.setdefault(name, text)
        for name, annotation in declared.items():
            if name not in seen and not name.startswith("_"):
                seen.add(name)
                yield Member(f"{prefix}.{name}", klass.__module__, (annotation,))
        for name, member in vars(klass).items():
            if name in seen or (name.startswith("_") and name not in INTERFACE_DUNDERS):
                continue
            seen.add(name)
            if isinstance(member, classmethod | staticmethod):
                member = member.__func__
            if isinstance(member, property):
                member = member.fget
            if isinstance(member, functools.cached_property):
                member = member.func
            if inspect.isfunction(member):
                yield function_member(f"{prefix}.{name}", member)


def members_of(provider: str, name: str) -> Iterator[Member | type]:
    """Describe what `provider.name` is: a function, a class, or a module attribute."""
    module = importlib.import_module(provider)
    thing = getattr(module, name)
    if inspect.isclass(thing):
        yield thing
    elif callable(thing) and inspect.isfunction(inspect.unwrap(thing)):
        yield function_member(f"{thing.__module__}.{thing.__qualname__}", thing)
    elif not inspect.ismodule(thing):
        annotation = vars(module).get("__annotations__", {}).get(name)
        if annotation is not None:
            yield Member(f"{provider}.{name}", provider, (annotation,))
        elif package_of(type(thing)):
            yield type(thing)


def seams_with_any() -> dict[str, set[str]]:
    """Map each cross-package member whose annotations involve `Any` to its users' modules."""
    found: dict[str, set[str]] = {}
    pending: list[tuple[Member | type, str]] = []
    for module, path in package_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for provider, name in sorted(foreign_uses(module, tree)):
            pending.extend((thing, module) for thing in members_of(provider, name))
    done: set[tuple[str, str]] = set()
    while pending:
        thing, user = pending.pop()
        user_package = user.split(".")[0]
        members = list(class_members(thing)) if isinstance(thing, type) else [thing]
        for member in members:
            if (member.name, user) in done or not member.name.startswith(PACKAGES):
                continue
            done.add((member.name, user))
            if member.name.split(".")[0] == user_package:
                continue
            if any(mentions_any(value, member.module) for value in member.annotations):
                found.setdefault(member.name, set()).add(user)
            for annotation in member.annotations:
                for cls in classes_named(annotation, member.module):
                    if package_of(cls) != user_package:
                        pending.append((cls, user))
    return found


def test_no_any_where_the_packages_meet() -> None:
    found = seams_with_any()
    listing = "\n".join(
        f"  {seam}  (used by {', '.join(sorted(users))})" for seam, users in sorted(found.items())
    )
    assert not found, f"{len(found)} cross-package signatures mention Any:\n{listing}"


def test_the_finder_follows_imports_and_aliases() -> None:
    source = "from keystore import settings\nimport keystore.db as db\ndb.Keystore\n"
    uses = foreign_uses("portal.example", ast.parse(source))
    assert ("keystore.db", "Keystore") in uses
    module = __name__  # this module's globals: `Mapping` resolves, `Any` must be spelled out
    assert mentions_any("Any | None", module)
    assert mentions_any("Callable[..., typing.Any]", module)
    assert mentions_any("'Any'", module)
    assert mentions_any(dict[str, typing.Any], module)
    assert not mentions_any("Mapping[str, object] | None", module)
    assert isinstance(Mapping, type)
