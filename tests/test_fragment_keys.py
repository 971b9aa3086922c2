"""
What a fragment's key holds (positions/fragments.py): a stamped record by its stamp, an
unstamped one by the fields its query loaded, the relations and rows loaded with it, and
plain values; a map by its data, not by the shapes it lays out; a board row by every value
its query read, its records made from them only when rendered.
"""

import datetime

import pytest
from django.db.models import Prefetch

from positions import fragments, maps, stances, views_board
from positions.models import Position, Question, Signatory, Statement
from tests.builders import build_record

pytestmark = pytest.mark.django_db


def key(*values):
    return fragments.fragment_key("test", list(values), fragments.setting("generation"))


@pytest.fixture
def record():
    return build_record()


def test_a_stamped_record_is_keyed_by_its_stamp(record):
    statement = Statement.objects.get(pk=Statement.objects.order_by("pk").first().pk)
    same = Statement.objects.get(pk=statement.pk)
    assert key(statement) == key(same)
    same.summary = "Changed in memory, not saved: the stamp alone keys a stamped record."
    assert key(statement) == key(same)
    Statement.objects.filter(pk=statement.pk).update(
        updated_at=statement.updated_at + datetime.timedelta(seconds=1)
    )
    assert key(Statement.objects.get(pk=statement.pk)) != key(statement)


def test_an_unstamped_record_is_keyed_by_the_fields_its_query_loaded(record):
    position = Position.objects.order_by("pk").first()
    assert key(position) == key(Position.objects.get(pk=position.pk))
    narrow = Position.objects.only("stance").get(pk=position.pk)
    assert key(narrow) != key(position)  # fewer fields loaded: another key
    changed = Position.objects.get(pk=position.pk)
    changed.stance = "opposes" if position.stance != "opposes" else "supports"
    assert key(changed) != key(position)


def test_relations_and_prefetched_rows_loaded_with_a_record_are_in_its_key(record):
    pk = Position.objects.order_by("pk").first().pk
    bare = Position.objects.get(pk=pk)
    with_actor = Position.objects.select_related("actor").get(pk=pk)
    assert key(bare) != key(with_actor)
    renamed = Position.objects.select_related("actor").get(pk=pk)
    renamed.actor.__dict__["updated_at"] += datetime.timedelta(seconds=1)
    assert key(renamed) != key(with_actor)

    statement_pk = Signatory.objects.order_by("pk").first().statement_id
    signatures = Prefetch("signatures", Signatory.objects.order_by("pk"))
    loaded = Statement.objects.prefetch_related(signatures).get(pk=statement_pk)
    again = Statement.objects.prefetch_related(signatures).get(pk=statement_pk)
    assert key(loaded) == key(again)
    again._prefetched_objects_cache["signatures"]._result_cache[0].actor_id += 1000
    assert key(loaded) != key(again)


def test_plain_values_dicts_in_any_order_and_unknown_types():
    assert key({"a": 1, "b": 2}) == key({"b": 2, "a": 1})
    assert key({"a": 1}) != key({"a": 2})
    assert key([1, "1"]) != key(["1", 1])
    assert key(datetime.date(2024, 1, 1)) != key(datetime.date(2024, 1, 2))
    with pytest.raises(TypeError, match="pass the records or values"):
        key(object())


def test_a_map_is_keyed_by_its_data_and_lays_out_its_shapes_only_when_drawn():
    world = maps.stance_map([("US", "United States", "us", "conditional")])
    same = maps.stance_map([("US", "United States", "us", "conditional")])
    assert key(world) == key(same)
    assert "countries" not in world.__dict__  # keyed without drawing it
    assert key(world) != key(maps.stance_map([("US", "United States", "us", "opposes")]))
    assert key(world) != key(maps.stance_map([("FR", "France", "fr", "conditional")]))
    drawn = {country.code: country.category for country in world.countries}
    assert drawn["US"] == "conditional"
    assert key(world) == key(same)  # drawing it changes nothing in its key


def board_rows(question):
    """The board's rows of `question` today, as the board reads them (`views_board.BoardRow`)."""
    positions = stances.current_positions(question).only(*views_board.BOARD_ROW_FIELDS)
    values = stances.first_of_each_stance(positions, 25, views_board.BOARD_ROW_VALUES)
    return [views_board.BoardRow(row, positions.db) for row in values]


def test_a_board_row_is_keyed_by_every_value_its_query_read(record):
    question = Question.objects.get(pk=Position.objects.order_by("pk").first().question_id)
    rows = board_rows(question)
    assert key(rows[0].key) == key(board_rows(question)[0].key)
    for name in rows[0].values:
        changed = views_board.BoardRow(
            {**rows[0].values, name: f"{rows[0].values[name]}-changed"}, "default"
        )
        assert key(changed.key) != key(rows[0].key), name


def test_a_board_rows_records_are_made_when_read_as_its_query_would_load_them(
    record, django_assert_num_queries
):
    question = Question.objects.get(pk=Position.objects.order_by("pk").first().question_id)
    loaded = {
        position.actor_id: position
        for position in stances.current_positions(question)
        .only(*views_board.BOARD_ROW_FIELDS)
        .select_related("statement__source")
    }
    rows = board_rows(question)
    assert rows and all("actor" not in row.__dict__ for row in rows)  # none made yet

    def fields(instance):
        return {k: v for k, v in instance.__dict__.items() if k != "_state"}

    with django_assert_num_queries(0):
        for row in rows:
            expected = loaded[row.actor_id]
            assert fields(row.actor) == fields(expected.actor)
            assert row.actor.get_deferred_fields() == expected.actor.get_deferred_fields()
            assert fields(row.statement) == fields(expected.statement)
            assert row.statement.source == expected.statement.source
            if expected.statement.source is not None:
                assert fields(row.statement.source) == fields(expected.statement.source)
