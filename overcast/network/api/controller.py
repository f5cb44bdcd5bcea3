"""One generic controller for Neutron's resources, as Neutron's own base controller:
list, show, create (one or bulk), update and delete, each checked against the policy
rule ``<action>_<resource>`` and the attribute rules (``create_network:shared``).

A service resource (``req.state.network.<name>``) offers ``list(ctx, filters)``,
``get(ctx, id)``, ``create(ctx, items)``, ``update(ctx, id, values)`` and
``delete(ctx, id)``, all speaking in resource dicts. A dict may carry ``"_policy"``:
extra policy-target fields (a subnet's network owner, say) that never reach the client;
``policy_extra(ctx, values)``, when a service has it, gives them for an item being created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from overcast.common.api import Route, reply
from overcast.network.api import listing
from overcast.network.api.attributes import Attr, explicitly_set, read_body
from overcast.network.errors import PolicyNotAuthorized

HIDDEN = "_policy"


def target(item: dict) -> dict:
    extra = item.get(HIDDEN) or {}
    return {**{k: v for k, v in item.items() if k != HIDDEN}, "tenant_id": item.get("project_id"), **extra}


def guarded(req, rule: str) -> bool:
    """Whether an attribute rule exists (Neutron enforces only the ones defined)."""
    return rule in req.enforcer.defaults


def public(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != HIDDEN}


@dataclass(frozen=True)
class Resource:
    singular: str  # "network"
    plural: str  # "networks" (the URL segment and the list key)
    attrs: dict[str, Attr]
    service: str  # attribute of NetworkService holding its logic
    bulk: bool = True
    path: str = ""  # defaults to /v2.0/<plural>
    extra_sort: frozenset = field(default_factory=frozenset)

    @property
    def base(self) -> str:
        return self.path or f"/v2.0/{self.plural}"

    def routes(self) -> list[Route]:
        one = self.base + "/{id}"
        s = self.singular
        return [Route("GET", self.base, self.list, f"get_{s}"), Route("POST", self.base, self.create, f"create_{s}"),
                Route("GET", one, self.show, f"get_{s}"), Route("PUT", one, self.update, f"update_{s}"),
                Route("DELETE", one, self.delete, f"delete_{s}")]

    def logic(self, req):
        return getattr(req.state.network, self.service)

    def render(self, req, item: dict) -> dict:
        """The item as the caller may see it: attributes it may not read left out."""
        shown = public(item)
        for name, attr in self.attrs.items():
            rule = f"get_{self.singular}:{name}"
            if attr.policy and name in shown and guarded(req, rule) and not req.allowed(target(item), rule):
                shown.pop(name)
        return listing.only_fields(shown, req.query.getlist("fields"))

    def list(self, req):
        items = self.logic(req).list(req.context, listing.filters_of(req.query))
        items = [item for item in items if req.allowed(target(item))]
        req.authorized = True  # the rule is checked per item: an empty list needs no check
        items = listing.select(items, req.query)
        items = listing.sort(items, req.query, set(self.attrs) | {"id", "project_id", "tenant_id", "status",
                                                                 "created_at", "updated_at"} | self.extra_sort)
        url = f"{req.base_url}{self.base}"
        items, links = listing.page(items, req.query, url, self.plural)
        body = {self.plural: [self.render(req, item) for item in items]}
        if links:
            body[f"{self.plural}_links"] = links
        return reply(body)

    def show(self, req):
        item = self.logic(req).get(req.context, req.params["id"])
        if not req.allowed(target(item)):
            raise self.not_found(req.params["id"])
        return reply({self.singular: self.render(req, item)})

    def not_found(self, ident: str):
        from overcast.network import errors

        error = getattr(errors, f"{self.singular.title().replace('_', '')}NotFound", errors.NotFound)
        return error(id=ident) if error is not errors.NotFound else error()

    def check_attributes(self, req, action: str, values: dict, base: dict, update: bool) -> None:
        for name, attr in self.attrs.items():
            rule = f"{action}_{self.singular}:{name}"
            if attr.policy and guarded(req, rule) and explicitly_set(name, self.attrs, values, update):
                if not req.allowed(target({**base, **values}), rule):
                    raise PolicyNotAuthorized(rule=rule)

    def create(self, req):
        items = read_body(req, self.singular, self.attrs, bulk=self.plural if self.bulk else None)
        logic = self.logic(req)
        for values in items:
            # a service may add policy-target fields of a parent (a subnet's network owner)
            extra = logic.policy_extra(req.context, values) if hasattr(logic, "policy_extra") else {}
            if not req.allowed({**target(values), **extra}):
                raise PolicyNotAuthorized(rule=f"create_{self.singular}")
            self.check_attributes(req, "create", values, extra, update=False)
        created = logic.create(req.context, items)
        if len(items) == 1 and self.singular in req.json():
            return reply({self.singular: self.render(req, created[0])}, status=201)
        return reply({self.plural: [self.render(req, item) for item in created]}, status=201)

    def update(self, req):
        (values,) = read_body(req, self.singular, self.attrs, update=True)
        logic = self.logic(req)
        current = logic.get(req.context, req.params["id"])
        self.authorize_change(req, "update", current, values)
        self.check_attributes(req, "update", values, target(current), update=True)
        return reply({self.singular: self.render(req, logic.update(req.context, req.params["id"], values))})

    def authorize_change(self, req, action: str, current: dict, values: dict | None = None) -> None:
        """403 when the caller may see the resource, 404 when it may not (Neutron's rule)."""
        rule = f"{action}_{self.singular}"
        if req.allowed({**target(current), **(values or {})}, rule):
            return
        if not req.allowed(target(current), f"get_{self.singular}"):
            raise self.not_found(current["id"])
        raise PolicyNotAuthorized(rule=rule)

    def delete(self, req):
        logic = self.logic(req)
        current = logic.get(req.context, req.params["id"])
        self.authorize_change(req, "delete", current)
        logic.delete(req.context, req.params["id"])
        return reply(None, status=204)
