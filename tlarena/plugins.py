"""Plugin discovery: the `tlarena` entry-point group (built-ins included) and `--plugin module.path`.

A plugin that fails to import, does not match the hooks of `tlarena.hookspecs`, or registers
something invalid is reported by name with the reason; everything else keeps working.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pluggy

from tlarena import hookspecs
from tlarena.backbones import Backbone, parse_weights
from tlarena.data.augment import NONE, Augmentation
from tlarena.executors import ExecutorType
from tlarena.methods import FAMILIES, HARNESS_HPARAMS, TransferMethod
from tlarena.pairs import DomainPair
from tlarena.registry import RegistrationError, Registry
from tlarena.settings import Setting
from tlarena.suites import Suite

_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")


@dataclass
class PluginInfo:
    name: str
    origin: str                     # "built-in", "entry point of <dist> <version>" or "--plugin"
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    not_found: bool = False         # its module does not exist (a typo in --plugin)


@dataclass
class Arena:
    """Everything the plugins registered, and what went wrong while they did."""

    manager: pluggy.PluginManager
    methods: Registry[type[TransferMethod]]
    pairs: Registry[DomainPair]
    backbones: Registry[Backbone]
    plugins: list[PluginInfo]
    augmentations: Registry[Augmentation] = field(default_factory=lambda: Registry("augmentation"))
    suites: Registry[Suite] = field(default_factory=lambda: Registry("suite"))
    executors: Registry[ExecutorType] = field(default_factory=lambda: Registry("executor"))

    @property
    def problems(self) -> list[str]:
        return [f"plugin {p.name!r} ({p.origin}): {e}" for p in self.plugins for e in p.errors]

    def notify_run_finished(self, record) -> list[str]:
        """Give a record to every reporter; a reporter that raises is named, never fatal."""
        reporters = dict.fromkeys(impl.plugin_name
                                  for impl in self.manager.hook.run_finished.get_hookimpls())
        failures = []
        for name in reporters:
            try:
                _hook_of(self.manager, name, "run_finished")(record=record)
            except Exception as error:
                failures.append(f"plugin {name!r} failed in run_finished: {error!r}")
        return failures


def load_arena(extra_modules: tuple[str, ...] = (), declared: tuple[str, ...] = ()) -> Arena:
    """The installed plugins, the ``extra_modules`` (``--plugin``) and the pairs ``declared``
    without Python (``tlarena.pairs_file``: a pairs file, or folders on the command line)."""
    manager = pluggy.PluginManager("tlarena")
    manager.add_hookspecs(hookspecs)
    # tlarena's own executors load first and always, even where the package metadata is stale
    infos = [_load(manager, "executors", "built-in", lambda: importlib.import_module(_CORE_PLUGIN))]
    for entry_point in importlib.metadata.entry_points(group="tlarena"):
        dist = entry_point.dist
        origin = "built-in" if dist and dist.name == "tlarena" else (
            f"entry point of {dist.name} {dist.version}" if dist else "entry point")
        infos.append(_load(manager, entry_point.name, origin, entry_point.load))
    if extra_modules and "" not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # like `python -m`: modules beside the user resolve
    for module in extra_modules:
        infos.append(_load(manager, module, "--plugin", lambda m=module: importlib.import_module(m)))
    if declared:
        from tlarena.pairs_file import Declared, where
        for declaration in declared:
            infos.append(_load(manager, where(declaration), "declared", lambda d=declaration: Declared(d)))
    arena = Arena(manager, Registry("method"), Registry("pair"), Registry("backbone"), infos)
    # Augmentations first, from every plugin: a pair or a method's views may name another plugin's.
    for stage in (_AUGMENTATION_HOOKS, _HOOKS):
        for info in infos:
            if not info.errors:
                _collect(arena, info, stage)
    return arena


def _load(manager, name, origin, load) -> PluginInfo:
    """Import and register one plugin; on any problem it is left unregistered, with the reason."""
    info = PluginInfo(name, origin)
    try:
        plugin = load()
    except Exception as error:
        info.errors.append(f"failed to load: {_short(error)}")
        # the module itself is missing, not one it imports
        info.not_found = isinstance(error, ModuleNotFoundError) and error.name is not None and (
            name == error.name or name.startswith(f"{error.name}."))
        return info
    if manager.is_registered(plugin):  # `--plugin` naming an installed plugin: already loaded
        info.name = manager.get_name(plugin)
        info.errors.append("already loaded through its entry point; --plugin ignored")
        return info
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as error:  # a hook's arguments differ from its spec
        info.errors.append(str(error).replace("\n", "; "))
    except Exception as error:
        info.errors.append(f"failed to load: {_short(error)}")
    else:
        info.errors += _hook_problems(manager, plugin)
    # A hook that is never called means the plugin cannot do what its author meant: load none of it.
    # (Older pluggy also leaves a plugin that failed validation half-registered: pluggy#733.)
    if info.errors and manager.is_registered(plugin):
        manager.unregister(plugin)
    return info


def _hook_problems(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    """The plugin's hooks that would never be called: an unknown name, or a missing marker.

    pluggy only refuses unknown names in `check_pending()`, for all plugins at once, and never sees
    an unmarked function; here each problem is this plugin's own.
    """
    known = sorted(name for name, caller in vars(manager.hook).items() if caller.has_spec())
    implemented = {caller.name for caller in manager.get_hookcallers(plugin)}
    problems = []
    for name in sorted(implemented.difference(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else f"the hooks are {', '.join(known)}"
        problems.append(f"{name} is not a tlarena hook; {hint}")
    for name in known:
        if name not in implemented and callable(getattr(plugin, name, None)):
            problems.append(f"{name} is not marked with @tlarena.hookimpl, so it is never called")
    return problems


def _hook_of(manager: pluggy.PluginManager, plugin_name: str, hook_name: str) -> pluggy.HookCaller:
    """`manager.hook.<hook_name>` restricted to one plugin, so what it registers or raises is its own.

    One call of the full hook would stop at the first plugin that raises and could not say who
    registered what.
    """
    plugin = manager.get_plugin(plugin_name)
    others = [p for p in manager.get_plugins() if p is not plugin]
    return manager.subset_hook_caller(hook_name, remove_plugins=others)


_CORE_PLUGIN = "tlarena.default_executors"
_AUGMENTATION_HOOKS = (("augmentation", "register_augmentations", "augmentations"),)
_HOOKS = (("method", "register_methods", "methods"), ("pair", "register_pairs", "pairs"),
          ("backbone", "register_backbones", "backbones"), ("suite", "register_suites", "suites"),
          ("executor", "register_executors", "executors"))


def _collect(arena: Arena, info: PluginInfo, hooks) -> None:
    checks = {"augmentation": _check_augmentation, "method": lambda m: validate_method(m, arena),
              "pair": lambda p: _check_pair(p, arena), "backbone": _check_backbone,
              "suite": _check_suite, "executor": _check_executor}
    for kind, hook_name, attribute in hooks:
        def register(item, _kind=kind, _registry=getattr(arena, attribute), _check=checks[kind]):
            try:
                name = _check(item)
                _registry.add(name, item, f"plugin {info.name!r} ({info.origin})")
                info.registered.setdefault(_kind, []).append(name)
            except RegistrationError as error:
                info.errors.append(str(error))

        try:
            _hook_of(arena.manager, info.name, hook_name)(register=register)
        except Exception as error:
            info.errors.append(f"{hook_name} raised {_short(error)}")


def _check_augmentation(augmentation) -> str:
    if not isinstance(augmentation, Augmentation):
        raise RegistrationError(f"registered augmentation {augmentation!r} is not a tlarena.Augmentation")
    if augmentation.name == NONE or not callable(augmentation.apply):
        raise RegistrationError(f"augmentation {augmentation.name!r}: the name {NONE!r} is taken and "
                                f"apply must be callable")
    return _valid_name(augmentation.name, "augmentation")


def validate_method(method, arena: Arena) -> str:
    """The name of a valid method class; ``RegistrationError`` says what is wrong with it."""
    if not (isinstance(method, type) and issubclass(method, TransferMethod)):
        raise RegistrationError(f"registered method {method!r} is not a TransferMethod subclass")
    missing = [a for a in ("name", "family", "paper") if not getattr(method, a)]
    if not method.settings:
        missing.append("settings")
    if missing:
        raise RegistrationError(f"method {method.__name__} lacks {', '.join(missing)}")
    if method.family not in FAMILIES:
        raise RegistrationError(f"method {method.name!r} has unknown family {method.family!r}; "
                                f"choose from {', '.join(FAMILIES)}")
    if not all(isinstance(s, Setting) for s in method.settings):
        raise RegistrationError(f"method {method.name!r}: settings must be tlarena.Setting values")
    if method.init not in ("source", "backbone", "random"):
        raise RegistrationError(f"method {method.name!r}: init must be source, backbone or random")
    needs_source_model = [s.value for s in method.settings if not s.sees.source_data]
    if needs_source_model and method.init != "source":
        raise RegistrationError(f"method {method.name!r}: settings {', '.join(needs_source_model)} start "
                                f"from the source model, so init must be 'source'")
    for stream, views in method.views.items():
        if stream not in ("source", "target", "unlabeled"):
            raise RegistrationError(f"method {method.name!r}: views of unknown stream {stream!r}; "
                                    f"streams are source, target and unlabeled")
        _known_augmentations(arena, views, f"method {method.name!r}")
    if method.phase_sees_source and not method.uses_source_data:
        raise RegistrationError(f"method {method.name!r}: phase_sees_source needs uses_source_data = True")
    if not (isinstance(method.unlabeled_ratio, int) and method.unlabeled_ratio >= 1):
        raise RegistrationError(f"method {method.name!r}: unlabeled_ratio must be a whole number >= 1")
    _check_hparams(method)
    return _valid_name(method.name, "method")


_PLAIN = (bool, int, float, str, type(None))   # what a record's JSON keeps as it was


def _check_hparams(method) -> None:
    """Hyperparameters go into every run's key and record as JSON: plain values only (a numpy
    float or a list would stop the grid at its first spec), numbers where the harness reads them."""
    if not (isinstance(method.hparams, dict) and all(isinstance(k, str) for k in method.hparams)):
        raise RegistrationError(f"method {method.name!r}: hparams must be a dict of names to values")
    for name, value in method.hparams.items():
        if type(value) not in _PLAIN:   # a list would not hash into the spec either
            raise RegistrationError(f"method {method.name!r}: hyperparameter {name} = {value!r} is a "
                                    f"{type(value).__name__}; give a plain number, text or true/false")
        if name in HARNESS_HPARAMS and type(value) not in (int, float):
            raise RegistrationError(f"method {method.name!r}: hyperparameter {name} = {value!r} must be a "
                                    f"number: the harness's optimizer reads it")
    if not isinstance(method.search_space, dict):
        raise RegistrationError(f"method {method.name!r}: search_space must be a dict")
    for name, space in method.search_space.items():
        if problem := _space_problem(method.hparams, name, space):   # else --hparam-samples would crash
            raise RegistrationError(f"method {method.name!r}: search_space[{name!r}] = {space!r} {problem}")


def _space_problem(hparams: dict, name: str, space) -> str | None:
    """What is wrong with one entry of a search space, or None."""
    if name not in hparams:
        return f"draws a hyperparameter the method does not have ({', '.join(hparams) or 'none'})"
    if isinstance(space, list):
        return None if space and all(type(v) in _PLAIN for v in space) else "needs plain choices, at least one"
    if not (isinstance(space, tuple) and len(space) == 3 and space[0] in ("log", "uniform")
            and all(type(v) in (int, float) for v in space[1:]) and space[1] <= space[2]):
        return "must be a list of choices or (\"log\" | \"uniform\", low, high) with low <= high"
    return "needs low > 0 to be drawn on a log scale" if space[0] == "log" and space[1] <= 0 else None


def _known_augmentations(arena: Arena, names, who: str) -> None:
    unknown = [name for name in names if name != NONE and name not in arena.augmentations]
    if unknown:
        raise RegistrationError(f"{who}: unknown augmentation {unknown[0]!r}; choose from "
                                f"{', '.join([NONE, *arena.augmentations.names()])}")


def _check_pair(pair, arena: Arena) -> str:
    if not isinstance(pair, DomainPair):
        raise RegistrationError(f"registered pair {pair!r} is not a DomainPair")
    _known_augmentations(arena, [pair.augment], f"pair {pair.name!r}")
    for side in (pair.source, pair.target):
        if not side.classes:
            raise RegistrationError(f"pair {pair.name!r}: data source {side.name!r} lacks classes")
        if "->" in side.name or "," in side.name:
            raise RegistrationError(f"data source name {side.name!r} may not contain '->' or ','")
    return pair.name


def _check_backbone(backbone) -> str:
    if not isinstance(backbone, Backbone):
        raise RegistrationError(f"registered backbone {backbone!r} is not a Backbone")
    if not backbone.model:
        raise RegistrationError(f"backbone {backbone.name!r} lacks a timm model name")
    import timm   # loaded already: tlarena.backbones imports it

    if not timm.is_model(backbone.model):
        raise RegistrationError(f"backbone {backbone.name!r}: timm has no model {backbone.model!r}; register "
                                f"it with timm.models.register_model before the backbone")
    if not _known_weights(backbone.weights):   # others would train from random weights without a word
        raise RegistrationError(f"backbone {backbone.name!r}: weights must be hub, none or file:PATH, "
                                f"not {backbone.weights!r}")
    return _valid_name(backbone.name, "backbone")


def _known_weights(weights: str) -> bool:
    try:
        parse_weights(weights)   # the command line's rule for --weights
    except ValueError:
        return False
    return True


def _check_suite(suite) -> str:
    if not isinstance(suite, Suite):
        raise RegistrationError(f"registered suite {suite!r} is not a tlarena.Suite")
    if suite.weights is not None and not _known_weights(suite.weights):
        raise RegistrationError(f"suite {suite.name!r}: weights must be hub, none or file:PATH")
    return _valid_name(suite.name, "suite")


def _check_executor(executor) -> str:
    if not isinstance(executor, ExecutorType):
        raise RegistrationError(f"registered executor {executor!r} is not a tlarena.ExecutorType")
    if not callable(executor.create):
        raise RegistrationError(f"executor {executor.name!r}: create must be callable")
    return _valid_name(executor.name, "executor")


def _valid_name(name: str, kind: str) -> str:
    if not _NAME.match(name):
        raise RegistrationError(f"{kind} name {name!r}: use lower-case letters, digits, '-', '.', '_'")
    return name


def _short(error: BaseException) -> str:
    """The error and the line it came from: enough to act on, without a full traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<")]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}: {error}{where}"
