"""`lc-sim toggle`: an owner's Restricted-save-back-save brings the community's applications back
in step without changing its own setting, and only for the communities toggled; the ground truth
then lists exactly the others; an unknown community changes nothing."""
from __future__ import annotations

import json

from conftest import lc_sim


def test_toggle_brings_exactly_those_communities_in_step(cell_factory):
    cell = cell_factory("cell", "--communities", 200, "--seed", 9)
    cell.damage("communities", backup_age=35)
    before = cell.truth()["communities_to_contact"]
    assert len(before) > 4
    world = json.loads((cell.root / "state" / "world.json").read_text())
    chosen = sorted(c["uuid"] for c in before)[:3]
    done = json.loads(lc_sim("toggle", cell.root, "--first", "3").stdout)
    assert [d["uuid"] for d in done] == chosen
    assert all(d["applications_updated"] for d in done), done
    after = cell.truth()["communities_to_contact"]
    assert sorted(c["uuid"] for c in after) == sorted(c["uuid"] for c in before if c["uuid"] not in chosen)
    now = json.loads((cell.root / "state" / "world.json").read_text())
    for u in chosen:
        assert now["communities"][u]["visibility"] == world["communities"][u]["visibility"]
        assert [d["visibility"] for d in done if d["uuid"] == u] == [world["communities"][u]["visibility"]]
    meta = json.loads((cell.root / "state" / "meta.json").read_text())
    assert meta["resync_calls"] == {}, "a toggle is not a resync"

    state = cell.state_bytes()
    bad = lc_sim("toggle", cell.root, "--communities", f"{chosen[0]},00000000-0000-4000-8000-000000000000", check=False)
    assert bad.returncode != 0
    assert "no community 00000000-0000-4000-8000-000000000000" in bad.stderr
    assert cell.state_bytes() == state
