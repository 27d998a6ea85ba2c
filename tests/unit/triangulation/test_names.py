"""Actor names: spelling and descriptors never decide; aliases (with their periods) do."""

from datetime import date

from app.services.triangulation.names import (
    Alias,
    AliasTable,
    Mentions,
    canonical_names,
    normalise,
    similarity,
)


def test_spelling_and_descriptors_do_not_matter():
    assert normalise("anti-Balaka") == normalise("Anti-balaka Militia") == "anti balaka"
    assert normalise("Seleka Militia") == normalise("Seleka Rebel Coalition") == normalise("ex-Séléka")
    assert normalise("Military Forces of the Central African Republic (2013-2014)") == \
        normalise("Military Forces of the Central African Republic (2014-2016)")


def test_placeholders_name_nobody():
    for name in ("Unidentified Armed Group (Central African Republic)", "Civilians (Chad)", "Rioters", ""):
        assert normalise(name) == ""
    assert canonical_names(["Unidentified Armed Group (Central African Republic)"], None, AliasTable()) == frozenset()


def test_coded_fields_with_several_names():
    names = canonical_names(["anti-Balaka, FPRC-AK", "FPRC: Popular Front for the Renaissance of Central Africa"],
                            None, AliasTable())
    assert {"anti balaka", "fprc ak", "fprc", "popular front for renaissance central africa"} == names


def test_aliases_apply_on_their_dates_only():
    table = AliasTable.of([Alias("Government of Central African Republic", "Seleka",
                                 date(2013, 3, 24), date(2014, 1, 10))])
    gov = ["Government of Central African Republic"]
    assert canonical_names(gov, date(2013, 12, 5), table) == {"seleka"}
    assert canonical_names(gov, date(2015, 6, 1), table) == {"government central african republic"}
    assert similarity(canonical_names(gov, date(2013, 12, 5), table),
                      canonical_names(["Seleka Militia"], date(2013, 12, 5), table)) == 1.0


def test_acronyms_match_exactly_or_not_at_all():
    assert similarity(frozenset({"fpr"}), frozenset({"fprc"})) == 0.0
    assert similarity(frozenset({"fprc"}), frozenset({"fprc"})) == 1.0


def test_a_clash_is_not_one_sides_attack():
    clash = frozenset({"anti balaka", "seleka"})
    attack = frozenset({"anti balaka"})
    assert similarity(clash, attack) < similarity(clash, clash) == 1.0
    # the other side named in the narrative counts, less than a coded name
    assert similarity(attack, clash, a_mentions=frozenset({"seleka"})) > similarity(attack, clash)


def test_nobody_named_is_no_evidence():
    assert similarity(frozenset(), frozenset({"seleka"})) is None


def test_mentions_are_whole_words():
    m = Mentions({"seleka", "anti balaka", "upc"})
    assert m.of("Ex-Seleka fighters attacked; anti-Balaka responded.") == {"seleka", "anti balaka"}
    assert m.of("The cupcake shop") == frozenset()
