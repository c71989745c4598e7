"""contracts/lifecycle.py: the one declaration of every version's lifecycle, checked so that an
inconsistent one is refused before anything reads it (no Django)."""

import datetime as dt

import pytest
import yaml

from contracts.lifecycle import (
    ACTIVE,
    BROWNOUT,
    DEPRECATED,
    SUNSET,
    Brownout,
    Lifecycle,
    LifecycleError,
    lifecycle_of,
    load,
    parse,
)

PUBLISHED = {"faq": ["v1", "v2"]}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def v1(**spec) -> dict:
    return {"faq": {"v1": spec}}


@pytest.fixture(autouse=True)
def _fresh_load():
    load.cache_clear()
    yield
    load.cache_clear()


class TestTheCommittedDeclaration:
    def test_it_parses_and_declares_faq_v1s_end(self):
        declared = load()

        faq_v1 = declared[("faq", "v1")]
        assert faq_v1.deprecated_at == utc(2026, 11, 1)
        assert faq_v1.sunset_at == utc(2027, 5, 1)
        assert faq_v1.successor == "v2"
        assert faq_v1.docs == "https://docs.switchyard.dev/faq/migrate-to-v2"
        assert faq_v1.brownouts == (
            Brownout(utc(2027, 3, 3, 14), utc(2027, 3, 3, 15)),
            Brownout(utc(2027, 4, 7, 14), utc(2027, 4, 7, 18)),
        )

    def test_versions_it_does_not_name_are_active(self):
        faq_v2 = lifecycle_of("faq", "v2")

        assert faq_v2 == Lifecycle("faq", "v2")
        assert faq_v2.state(utc(2030, 1, 1)) == ACTIVE
        assert not faq_v2.announced

    def test_a_missing_file_declares_nothing(self, tmp_path):
        assert load(tmp_path / "absent.yaml") == {}
        assert lifecycle_of("faq", "v1", tmp_path / "absent.yaml").state() == ACTIVE


class TestParsing:
    def test_a_complete_declaration(self):
        parsed = parse(
            v1(
                deprecated_at="2026-11-01T00:00:00Z",
                sunset_at="2027-05-01T00:00:00+02:00",
                successor="v2",
                docs="https://docs.example.com/v2",
                brownouts=[{"start": "2027-03-03T14:00:00Z", "end": "2027-03-03T15:00:00Z"}],
            ),
            PUBLISHED,
        )

        faq_v1 = parsed[("faq", "v1")]
        assert faq_v1.sunset_at == utc(2027, 4, 30, 22)  # normalised to UTC
        assert faq_v1.brownouts == (Brownout(utc(2027, 3, 3, 14), utc(2027, 3, 3, 15)),)

    def test_dates_as_yaml_writes_them_are_read_as_utc(self):
        data = yaml.safe_load(
            "faq:\n  v1:\n    deprecated_at: 2026-11-01\n    sunset_at: 2027-05-01 12:00:00\n"
        )

        faq_v1 = parse(data, PUBLISHED)[("faq", "v1")]

        assert faq_v1.deprecated_at == utc(2026, 11, 1)
        assert faq_v1.sunset_at == utc(2027, 5, 1, 12)

    def test_an_empty_declaration_is_nothing_declared(self):
        assert parse(None) == {}
        assert parse({}) == {}

    def test_a_sunset_before_the_deprecation_is_refused_saying_so(self):
        with pytest.raises(LifecycleError) as refused:
            parse(v1(deprecated_at="2027-05-01T00:00:00Z", sunset_at="2026-11-01T00:00:00Z"))

        message = str(refused.value)
        assert message.startswith("faq v1: ")
        assert "sunset_at (2026-11-01) precedes deprecated_at (2027-05-01)" in message

    def test_a_sunset_without_a_deprecation_is_refused(self):
        with pytest.raises(LifecycleError, match="faq v1: a sunset needs a deprecation date"):
            parse(v1(sunset_at="2027-05-01T00:00:00Z"))

    def test_an_unknown_key_is_refused_by_name(self):
        with pytest.raises(LifecycleError, match=r"faq v1: unknown keys \['sunset'\]"):
            parse(v1(deprecated_at="2026-11-01T00:00:00Z", sunset="2027-05-01T00:00:00Z"))

    def test_a_successor_that_is_not_published_is_refused(self):
        with pytest.raises(LifecycleError, match="faq v1: successor v3 is not published"):
            parse(v1(deprecated_at="2026-11-01T00:00:00Z", successor="v3"), PUBLISHED)

    def test_a_version_cannot_succeed_itself(self):
        with pytest.raises(LifecycleError, match="cannot succeed itself"):
            parse(v1(deprecated_at="2026-11-01T00:00:00Z", successor="v1"))

    def test_a_version_that_is_not_published_is_refused(self):
        with pytest.raises(LifecycleError, match="faq v7: no such published version"):
            parse({"faq": {"v7": {"deprecated_at": "2026-11-01T00:00:00Z"}}}, PUBLISHED)

    def test_a_brownout_before_the_deprecation_is_refused(self):
        with pytest.raises(
            LifecycleError, match=r"faq v1 brownouts\[0\]: a brownout must follow the deprecation"
        ):
            parse(
                v1(
                    deprecated_at="2026-11-01T00:00:00Z",
                    brownouts=[{"start": "2026-10-31T23:00:00Z", "end": "2026-11-01T01:00:00Z"}],
                )
            )

    def test_a_brownout_without_a_deprecation_is_refused(self):
        with pytest.raises(LifecycleError, match="a brownout must follow the deprecation"):
            parse(v1(brownouts=[{"start": "2027-01-01T00:00:00Z", "end": "2027-01-02T00:00:00Z"}]))

    @pytest.mark.parametrize("end", ["2027-03-03T13:00:00Z", "2027-03-03T14:00:00Z"])
    def test_a_brownout_that_ends_before_it_starts_is_refused(self, end):
        with pytest.raises(LifecycleError, match=r"brownouts\[1\]: ends before it starts"):
            parse(
                v1(
                    deprecated_at="2026-11-01T00:00:00Z",
                    brownouts=[
                        {"start": "2027-01-01T00:00:00Z", "end": "2027-01-01T01:00:00Z"},
                        {"start": "2027-03-03T14:00:00Z", "end": end},
                    ],
                )
            )

    @pytest.mark.parametrize(
        "window",
        [
            {"start": "2027-01-01T00:00:00Z"},
            {"start": "2027-01-01T00:00:00Z", "end": "2027-01-02T00:00:00Z", "why": "test"},
            ["2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"],
        ],
    )
    def test_a_brownout_must_be_exactly_a_start_and_an_end(self, window):
        with pytest.raises(LifecycleError, match=r"expected \{start, end\}"):
            parse(v1(deprecated_at="2026-11-01T00:00:00Z", brownouts=[window]))

    @pytest.mark.parametrize("value", ["next tuesday", "2026-13-01T00:00:00Z", 20261101, ["x"]])
    def test_a_date_that_is_not_a_date_is_refused_naming_the_field(self, value):
        with pytest.raises(LifecycleError, match="faq v1 deprecated_at"):
            parse(v1(deprecated_at=value))

    @pytest.mark.parametrize("data", [{"faq": ["v1"]}, {"faq": {"v1": ["deprecated"]}}])
    def test_a_declaration_of_the_wrong_shape_is_refused(self, data):
        with pytest.raises(LifecycleError, match="expected a mapping"):
            parse(data)

    def test_load_checks_the_names_against_the_published_contracts(self, tmp_path):
        path = tmp_path / "lifecycle.yaml"
        path.write_text("faq:\n  v1:\n    deprecated_at: 2026-11-01T00:00:00Z\n    successor: v9\n")

        with pytest.raises(LifecycleError, match="successor v9 is not published"):
            load(path)


class TestState:
    """faq v1's path through its lifecycle, instant by instant."""

    @pytest.fixture
    def faq_v1(self):
        return parse(
            v1(
                deprecated_at="2026-11-01T00:00:00Z",
                sunset_at="2027-05-01T00:00:00Z",
                brownouts=[
                    {"start": "2027-03-03T14:00:00Z", "end": "2027-03-03T15:00:00Z"},
                    {"start": "2027-04-07T14:00:00Z", "end": "2027-04-07T18:00:00Z"},
                ],
            )
        )[("faq", "v1")]

    @pytest.mark.parametrize(
        ("now", "state"),
        [
            (utc(2026, 10, 31, 23, 59, 59, 999999), ACTIVE),
            (utc(2026, 11, 1), DEPRECATED),
            (utc(2027, 3, 3, 13, 59, 59), DEPRECATED),
            (utc(2027, 3, 3, 14), BROWNOUT),
            (utc(2027, 3, 3, 14, 59, 59, 999999), BROWNOUT),
            (utc(2027, 3, 3, 15), DEPRECATED),
            (utc(2027, 4, 7, 17, 30), BROWNOUT),
            (utc(2027, 4, 30, 23, 59, 59, 999999), DEPRECATED),
            (utc(2027, 5, 1), SUNSET),
            (utc(2030, 1, 1), SUNSET),
        ],
    )
    def test_the_state_at_each_instant(self, faq_v1, now, state):
        assert faq_v1.state(now) == state

    @pytest.mark.parametrize(
        ("now", "gone"),
        [
            (utc(2026, 11, 2), False),
            (utc(2027, 3, 3, 14, 30), True),
            (utc(2027, 3, 3, 15), False),
            (utc(2027, 5, 1), True),
        ],
    )
    def test_it_is_gone_during_brownouts_and_after_the_sunset(self, faq_v1, now, gone):
        assert faq_v1.gone(now) is gone

    def test_it_is_announced_before_the_deprecation_date(self, faq_v1):
        assert faq_v1.state(utc(2026, 1, 1)) == ACTIVE
        assert faq_v1.announced

    def test_it_describes_itself_in_iso_8601_utc(self, faq_v1):
        assert faq_v1.as_dict(utc(2027, 3, 3, 14)) == {
            "state": BROWNOUT,
            "deprecated_at": "2026-11-01T00:00:00Z",
            "sunset_at": "2027-05-01T00:00:00Z",
            "successor": None,
            "docs": None,
            "brownouts": [
                {"start": "2027-03-03T14:00:00Z", "end": "2027-03-03T15:00:00Z"},
                {"start": "2027-04-07T14:00:00Z", "end": "2027-04-07T18:00:00Z"},
            ],
        }

    def test_without_a_sunset_it_stays_deprecated(self):
        faq_v1 = parse(v1(deprecated_at="2026-11-01T00:00:00Z"))[("faq", "v1")]

        assert faq_v1.state(utc(2100, 1, 1)) == DEPRECATED
        assert not faq_v1.gone(utc(2100, 1, 1))


class TestOperationSuccessors:
    BASE = {"deprecated_at": "2026-11-01T00:00:00Z", "successor": "v2"}

    def test_an_operation_succeeds_the_one_of_the_same_id_unless_one_is_declared(self):
        [lc] = parse(v1(**self.BASE, operations={"faq_answer": "faq_update"}), PUBLISHED).values()

        v2_ids = {"faq_list", "faq_update"}
        assert lc.successor_operation("faq_list", v2_ids) == "faq_list"
        assert lc.successor_operation("faq_answer", v2_ids) == "faq_update"
        assert lc.successor_operation("faq_gone", v2_ids) is None

    def test_null_declares_that_an_operation_has_no_successor(self):
        [lc] = parse(v1(**self.BASE, operations={"faq_delete": None}), PUBLISHED).values()

        assert lc.successor_operation("faq_delete", {"faq_delete"}) is None

    @pytest.mark.parametrize(
        ("operations", "message"),
        [
            ({"faq_nope": "faq_update"}, "v1 has no operation 'faq_nope'"),
            ({"faq_answer": "faq_nope"}, "v2 has no operation 'faq_nope' for faq_answer"),
            (["faq_answer"], "expected a mapping"),
            ({"faq_answer": 3}, "map operation ids to ids"),
        ],
    )
    def test_a_mapping_naming_unknown_operations_is_refused(self, operations, message):
        with pytest.raises(LifecycleError, match=message):
            parse(v1(**self.BASE, operations=operations), PUBLISHED)

    def test_a_mapping_needs_a_successor(self):
        with pytest.raises(LifecycleError, match="a successor to map to"):
            parse(v1(deprecated_at="2026-11-01T00:00:00Z", operations={"a": "b"}), PUBLISHED)

    def test_the_committed_mapping_is_valid(self):
        lc = lifecycle_of("faq", "v1")

        assert dict(lc.renamed) == {"faq_answer": "faq_update"}
