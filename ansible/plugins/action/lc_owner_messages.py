# -*- coding: utf-8 -*-
"""connections.dr.lc_owner_messages: every owner's message in one task (runbook step 8).

The communities to contact are grouped by owner; the administrator's Jinja2 template is rendered
with Ansible's own templating (the task's variables, filters and lookups), once per owner, and
each message is written on the controller into ``dest``, which is left holding exactly this
recovery's messages. See plugins/modules/lc_owner_messages.yml for the options and results.

Which owners: a community's ``owners`` (connections.dr.lc_owners, each with name, email, user_id)
when it has them, else its creator (``created_by``, the name fetchCommById prints).

With ``mail`` (the SMTP server and sender), the same task then sends each owner's message with
the binary module connections.dr.lc_owner_mail, run on the controller (the task must run there:
``delegate_to: localhost``), which keeps ``mail-sent.json`` in ``dest``: what the server accepted,
by recipient and SHA-256 of the message, so that a rerun mails no one twice. That file is neither
a message nor stale.

The template is given ``owner`` (name, email, user_id, address, email_hidden), ``communities``
(that owner's communities, sorted by name) and the task's variables. A template that names
``item`` and neither ``owner`` nor ``communities`` is a per-community template (the form of
earlier releases): it is rendered once per community of the owner, with ``item`` bound to it,
and the parts are joined, one after another, into that owner's one message.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import uuid

from jinja2 import Environment as Jinja2Environment
from jinja2 import meta as jinja2_meta

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19: only trusted strings are templates
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - ansible-core 2.17, 2.18
    def trust_as_template(value):
        return value

ARGS = {"communities", "template", "dest", "mode", "mail"}
# The keys of ``mail``: connections.dr.lc_owner_mail's options but the messages and the record.
MAIL_KEYS = {"host", "port", "tls", "from", "user", "password", "validate_certs", "ca_path", "timeout",
             "subject", "helo"}
# What lc_owner_mail keeps in dest: the messages the server accepted (not a message, never stale).
MAIL_RECORD = "mail-sent.json"
SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
# What separates the parts of a per-community template in one owner's message.
PART_SEPARATOR = "\n" + "-" * 72 + "\n\n"


def owners_of(community: dict) -> list[dict]:
    """The community's owners, each as name, email, user_id, email_hidden and the key that
    groups it (user id, else e-mail address, else name)."""
    listed = community.get("owners") or []
    if not listed:
        listed = [{"name": community.get("created_by") or ""}]
    out = []
    for o in listed:
        owner = {
            "name": to_text(o.get("name") or ""),
            "email": to_text(o.get("email") or ""),
            "user_id": to_text(o.get("user_id") or ""),
            "email_hidden": bool(o.get("email_hidden", False)),
        }
        owner["key"] = owner["user_id"] or owner["email"].lower() or owner["name"]
        # How to reach them: the address, else the user id (the directory gives the address).
        owner["address"] = owner["email"] or owner["user_id"]
        out.append(owner)
    return out


def group_by_owner(communities: list) -> list[tuple[dict, list[dict]]]:
    """(owner, communities) pairs, owners sorted by name then key, each owner's communities by
    name then UUID; a community with two owners is in both owners' lists."""
    owners: dict[str, dict] = {}
    theirs: dict[str, dict[str, dict]] = {}
    for i, c in enumerate(communities):
        if not isinstance(c, dict) or not c.get("uuid"):
            raise AnsibleActionFail(f"communities[{i}] is not a community to contact (a dict with uuid)")
        for o in owners_of(c):
            owners.setdefault(o["key"], o)
            theirs.setdefault(o["key"], {})[c["uuid"]] = c
    ordered = sorted(owners.values(), key=lambda o: (o["name"].lower(), o["key"]))
    return [(o, sorted(theirs[o["key"]].values(), key=lambda c: (to_text(c.get("name", "")).lower(), c["uuid"])))
            for o in ordered]


def file_names(owners: list[dict]) -> list[str]:
    """One file name per owner, from the address, user id or name; unique (a second owner whose
    name gives the same file gets -2, and so on, in the owners' order)."""
    taken: set[str] = set()
    out = []
    for o in owners:
        base = SAFE.sub("_", o["email"] or o["user_id"] or o["name"]).strip("._") or "unknown-owner"
        base = base[:120]
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        out.append(name + ".txt")
    return out


def write_if_changed(path: str, data: bytes, mode: int) -> bool:
    """Writes data to path atomically (temporary file beside it, then rename) unless the file
    already holds it with that mode; says whether it wrote."""
    try:
        st = os.stat(path)
        if stat.S_IMODE(st.st_mode) == mode and st.st_size == len(data):
            with open(path, "rb") as f:
                if f.read() == data:
                    return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lc-message.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        try:
            communities = args.get("communities")
            if communities is None or not isinstance(communities, list):
                raise AnsibleActionFail("communities must be a list (the communities to contact)")
            for key in ("template", "dest"):
                if not isinstance(args.get(key), str) or not args.get(key):
                    raise AnsibleActionFail(f"{key} is required (a path)")
            try:
                mode = int(str(args.get("mode", "0640")), 8)
            except ValueError:
                raise AnsibleActionFail(f"mode must be octal, like 0640, not {args.get('mode')!r}")
            try:
                source = self._find_needle("templates", args["template"])
            except AnsibleError as e:
                raise AnsibleActionFail(f"template: {to_text(e)}")
            dest = args["dest"]
            mail = self._mail_options(args.get("mail"))

            groups = group_by_owner(communities)
            names = file_names([owner for owner, _communities in groups])
            messages = self._render(source, task_vars, groups)

            planned = []
            for (owner, theirs), name in zip(groups, names):
                planned.append({
                    "owner": {k: owner[k] for k in ("name", "email", "user_id", "email_hidden", "address")},
                    "file": os.path.join(dest, name),
                    "communities": [c["uuid"] for c in theirs],
                })
            keep = set(names)
            stale = sorted(n for n in (os.listdir(dest) if os.path.isdir(dest) else [])
                           if n.endswith(".txt") and n not in keep)
            written = []
            if not self._task.check_mode:
                os.makedirs(dest, mode=0o750, exist_ok=True)
                for plan, text in zip(planned, messages):
                    if write_if_changed(plan["file"], to_bytes(text, errors="surrogate_or_strict"), mode):
                        written.append(plan["file"])
                for n in stale:
                    os.unlink(os.path.join(dest, n))
            else:
                written = [p["file"] for p, text in zip(planned, messages)
                           if not os.path.isfile(p["file"]) or open(p["file"], "rb").read() != to_bytes(text)]
            removed = [os.path.join(dest, n) for n in stale]
            result.update(
                changed=bool(written or removed),
                messages=planned,
                written=written,
                removed=removed,
                msg=(f"{'would write' if self._task.check_mode else 'wrote'} {len(written)} of "
                     f"{len(planned)} owners' messages ({len(communities)} communities) in {dest}"
                     + (f", {'would remove' if self._task.check_mode else 'removed'} {len(removed)} of an earlier recovery"
                        if removed else "")),
            )
            if mail:
                self._send(result, mail, dest, planned, messages, task_vars)
        except AnsibleActionFail as e:
            result.update(failed=True, msg=to_text(e))
        return result

    def _mail_options(self, mail) -> dict:
        """``mail``'s options for lc_owner_mail, or {} when no mail is to be sent (not given, or
        empty). Empty values stand for options not given, as the role's defaults write them."""
        if mail in (None, "", {}):
            return {}
        if not isinstance(mail, dict):
            raise AnsibleActionFail("mail must be a dict (host, from, ...), or empty to only write the messages")
        unknown = sorted(set(mail) - MAIL_KEYS)
        if unknown:
            raise AnsibleActionFail(f"mail: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(MAIL_KEYS))}")
        options = {k: v for k, v in mail.items() if v not in (None, "")}
        if not options:
            return {}
        for key in ("host", "from"):
            if not options.get(key):
                raise AnsibleActionFail(f"mail.{key} is required to send the messages")
        if self._connection.transport != "local":
            raise AnsibleActionFail("mail is sent from the controller, where the messages and the record of what "
                                    "was sent are: run the task with delegate_to: localhost")
        return options

    def _send(self, result: dict, mail: dict, dest: str, planned: list, messages: list, task_vars: dict) -> None:
        """Sends the messages with connections.dr.lc_owner_mail on the controller; its result goes
        in ``mail``, its warnings and message join the task's. A server that cannot be used fails
        the task with ``mail.failed`` set (the messages are written all the same)."""
        # Imported here: the collection's loader provides it when Ansible runs the plugin.
        from ansible_collections.connections.dr.plugins.plugin_utils import platforms

        host = task_vars.get("inventory_hostname", "localhost")
        binary, failed = platforms.choose_binary(self, "lc_owner_mail", host)
        if failed:
            failed.setdefault("msg", "no binary")
            self._mail_failed(result, {"failed": True}, f"no owner's message was mailed: {failed['msg']}")
            return
        module_args = dict(mail, record=os.path.join(dest, MAIL_RECORD), messages=[
            {"to": plan["owner"]["email"], "name": plan["owner"]["name"], "user_id": plan["owner"]["user_id"],
             "file": os.path.basename(plan["file"]), "text": text}
            for plan, text in zip(planned, messages)])
        try:
            sent = self._execute_module(module_name=binary, module_args=module_args, task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result["mail"] = {k: sent[k] for k in ("sent", "already_sent", "refused", "not_mailable", "server", "record")
                          if k in sent}
        result["changed"] = bool(result.get("changed") or sent.get("changed"))
        if sent.get("warnings"):
            result["warnings"] = list(result.get("warnings", [])) + list(sent["warnings"])
        text = sent.get("msg", "lc_owner_mail returned no message")
        if sent.get("failed"):
            self._mail_failed(result, result["mail"], text)
        else:
            result["msg"] = f"{result['msg']}; {text}"

    @staticmethod
    def _mail_failed(result: dict, mail: dict, why: str) -> None:
        mail["failed"] = True
        result["mail"] = mail
        result["failed"] = True
        result["msg"] = f"{result['msg']}; {why}"
        result["warnings"] = list(result.get("warnings", [])) + [
            f"the owners' messages are written, but not all were mailed: {why}"]

    def _render(self, source: str, task_vars: dict, groups) -> list[str]:
        """Every owner's message, rendered by Ansible's templating from the template at source.

        Compiling a template costs more than rendering it, so the administrator's template is the
        body of one loop over the owners (and, for a per-community template, over each owner's
        communities), rendered once; the owners' messages are cut apart at a random token."""
        text = to_text(self._loader.get_text_file_contents(source)) \
            if hasattr(self._loader, "get_text_file_contents") else to_text(open(source, "rb").read())
        try:
            names = jinja2_meta.find_undeclared_variables(Jinja2Environment().parse(text))
        except Exception as e:  # a syntax error: say where
            raise AnsibleActionFail(f"template {source}: {to_text(e)}")
        if "extends" in text and re.search(r"{%-?\s*extends\b", text):
            raise AnsibleActionFail(f"template {source}: extends is not supported in an owner's message template")
        per_community = "item" in names and not ({"owner", "communities"} & names)
        owner_sep, part_sep = uuid.uuid4().hex, uuid.uuid4().hex
        if per_community:
            body = ("{% for item in communities %}{{ '' }}" + text
                    + "{{ __lc_part_sep if not loop.last else '' }}{% endfor %}")
        else:
            body = text
        # {{ '' }} after the loop's tags: trim_blocks must not eat the template's first newline.
        loop = ("{% for __lc_group in __lc_owner_groups %}{% set owner = __lc_group.owner %}"
                "{% set communities = __lc_group.communities %}{{ '' }}"
                + body + "{{ __lc_owner_sep }}{% endfor %}")
        searchpath = [os.path.dirname(source)] + list(task_vars.get("ansible_search_path", []))
        variables = dict(task_vars, __lc_owner_groups=[{"owner": o, "communities": c} for o, c in groups],
                         __lc_owner_sep=owner_sep, __lc_part_sep=part_sep)
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        try:
            rendered = templar.template(trust_as_template(loop), escape_backslashes=False,
                                        overrides={"trim_blocks": True})
        except AnsibleError as e:
            raise AnsibleActionFail(f"rendering {source}: {to_text(e)}")
        parts = to_text(rendered if rendered is not None else "").split(owner_sep)
        if len(parts) != len(groups) + 1 or parts[-1] != "":
            raise AnsibleActionFail(f"rendering {source}: the template printed a token it was not given")
        out = []
        for text in parts[:-1]:
            if per_community:
                text = PART_SEPARATOR.join(p if p.endswith("\n") else p + "\n" for p in text.split(part_sep))
            out.append(text)
        return out
