"""Projects (tenants), with tags and parent/child trees."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Assignment, Domain, Project, ProjectTag
from overcast.identity.service.base import SubService, dump_json, load_json, must_get, split_extra

COLUMNS = {"name", "description", "enabled", "domain_id", "parent_id"}
MAX_TAGS = 80


def check_tags(tags) -> list[str]:
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise errors.ValidationError(f"Invalid input for field 'tags': at most {MAX_TAGS} tags")
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 255 or "/" in tag or "," in tag:
            raise errors.ValidationError(f"Invalid input for field 'tags': {tag!r} is not a valid tag")
    return list(dict.fromkeys(tags))


class Projects(SubService):
    def _load_tags(self, session, rows: list[Project]) -> list[Project]:
        ids = [row.id for row in rows]
        tags: dict[str, list[str]] = {i: [] for i in ids}
        if ids:
            for project_id, name in session.execute(
                select(ProjectTag.project_id, ProjectTag.name).where(ProjectTag.project_id.in_(ids))
            ):
                tags[project_id].append(name)
        for row in rows:
            row.tags = sorted(tags[row.id])
        return rows

    def get(self, project_id: str) -> Project:
        with self.db.session() as session:
            row = must_get(session, Project, project_id, errors.ProjectNotFound)
            return self._load_tags(session, [row])[0]

    def resolve(self, ref: dict) -> Project:
        """A project from ``{"id"}`` or ``{"name", "domain": {"id"|"name"}}``."""
        if ref.get("id"):
            return self.get(ref["id"])
        domain = self.identity.domains.resolve(ref.get("domain") or {})
        with self.db.session() as session:
            row = session.scalars(
                select(Project).where(Project.domain_id == domain.id, Project.name == ref.get("name"))
            ).first()
            if row is None:
                raise errors.ProjectNotFound(ref.get("name"))
            return self._load_tags(session, [row])[0]

    def list(self, filters: dict | None = None, ids: list[str] | None = None) -> list[Project]:
        filters = filters or {}
        query = select(Project).order_by(Project.name)
        for key in ("name", "domain_id", "enabled"):
            if filters.get(key) is not None:
                query = query.where(getattr(Project, key) == filters[key])
        if filters.get("parent_id") is not None:
            query = query.where(Project.parent_id == filters["parent_id"])
        if ids is not None:
            query = query.where(Project.id.in_(ids))
        with self.db.session() as session:
            rows = self._load_tags(session, list(session.scalars(query)))
        return [row for row in rows if _tags_match(set(row.tags), filters)]

    def create(self, fields: dict) -> Project:
        tags = check_tags(fields.pop("tags", []))
        known, extra = split_extra(fields, COLUMNS)
        extra.pop("is_domain", None)
        with self.db.session() as session:
            if session.get(Domain, known["domain_id"]) is None:
                raise errors.DomainNotFound(known["domain_id"])
            parent_id = known.get("parent_id")
            if parent_id == known["domain_id"]:
                known["parent_id"] = None
            elif parent_id:
                parent = session.get(Project, parent_id)
                if parent is None:
                    raise errors.ValidationError(f"Could not find project: {parent_id}.")
                if parent.domain_id != known["domain_id"]:
                    raise errors.ValidationError("Cannot create project, the parent is in a different domain.")
            row = Project(id=new_id(), extra=dump_json(extra), **known)
            session.add(row)
            self.commit_unique(session, "project", known["name"])
            for tag in tags:
                session.add(ProjectTag(project_id=row.id, name=tag))
            row.tags = tags
            return row

    def update(self, project_id: str, fields: dict) -> Project:
        tags = fields.pop("tags", None)
        known, extra = split_extra(fields, COLUMNS - {"domain_id", "parent_id"})
        with self.db.session() as session:
            row = must_get(session, Project, project_id, errors.ProjectNotFound)
            if "domain_id" in fields and fields["domain_id"] != row.domain_id:
                raise errors.ValidationError("Cannot change the domain of a project.")
            was_enabled = row.enabled
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
            self.commit_unique(session, "project", row.name)
            if tags is not None:
                self._replace_tags(session, project_id, check_tags(tags))
            self._load_tags(session, [row])
        self.names.forget("project", project_id)
        if was_enabled and not row.enabled:
            self.identity.revocations.revoke(project_id=project_id)
        return row

    def _replace_tags(self, session, project_id: str, tags: list[str]) -> None:
        session.execute(delete(ProjectTag).where(ProjectTag.project_id == project_id))
        session.flush()
        for tag in tags:
            session.add(ProjectTag(project_id=project_id, name=tag))

    def set_tags(self, project_id: str, tags: list[str]) -> list[str]:
        tags = check_tags(tags)
        with self.db.session() as session:
            if session.get(Project, project_id) is None:
                raise errors.ProjectNotFound(project_id)
            self._replace_tags(session, project_id, tags)
        return sorted(tags)

    def add_tag(self, project_id: str, tag: str) -> None:
        row = self.get(project_id)
        if tag not in row.tags:
            self.set_tags(project_id, row.tags + [tag])

    def remove_tag(self, project_id: str, tag: str) -> None:
        row = self.get(project_id)
        if tag not in row.tags:
            raise errors.IdentityNotFound(tag)
        self.set_tags(project_id, [t for t in row.tags if t != tag])

    def delete(self, project_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Project, project_id, errors.ProjectNotFound)
            if session.scalars(select(Project.id).where(Project.parent_id == project_id)).first():
                raise errors.ForbiddenAction(
                    f"Cannot delete the project {project_id} since it is not a leaf in the hierarchy."
                )
            session.execute(delete(Assignment).where(Assignment.target_id == project_id))
            session.execute(delete(ProjectTag).where(ProjectTag.project_id == project_id))
            session.delete(row)
        self.names.forget("project", project_id)
        self.identity.revocations.revoke(project_id=project_id)

    def ordered_for_delete(self, session, ids: list[str]) -> list[str]:
        """Parents before children, so deleting in reverse never orphans a row."""
        parents = dict(session.execute(select(Project.id, Project.parent_id).where(Project.id.in_(ids))).all())
        ordered: list[str] = []

        def visit(ident: str) -> None:
            if ident in ordered:
                return
            parent = parents.get(ident)
            if parent in parents:
                visit(parent)
            ordered.append(ident)

        for ident in ids:
            visit(ident)
        return ordered

    def ancestors(self, project_id: str) -> list[str]:
        """Parent ids from the nearest up to the top of the tree."""
        chain: list[str] = []
        with self.db.session() as session:
            current = session.get(Project, project_id)
            while current is not None and current.parent_id and current.parent_id not in chain:
                chain.append(current.parent_id)
                current = session.get(Project, current.parent_id)
        return chain


def _tags_match(tags: set[str], filters: dict) -> bool:
    def wanted(key):
        value = filters.get(key)
        return set(value.split(",")) if value else None

    every, some, none_of, not_any = wanted("tags"), wanted("tags-any"), wanted("not-tags"), wanted("not-tags-any")
    if every is not None and not every <= tags:
        return False
    if some is not None and not some & tags:
        return False
    if none_of is not None and none_of <= tags:
        return False
    if not_any is not None and not_any & tags:
        return False
    return True
