from hypothesis import given
from hypothesis import strategies as st

from app.services.incidents.grading import ReportGrade, grade, independent_sources


def r(section="civil_affairs", name=None, rel="C", cred=3, count=1, key=""):
    return ReportGrade(section, name, rel, cred, count, key)


def test_single_weak_report_is_grade_c():
    assert grade([r(rel="D", cred=4)]) == ("c", 1)


def test_single_strong_report_is_grade_b():
    assert grade([r(rel="A", cred=1)]) == ("b", 1)


def test_two_independent_sources_with_a_strong_one_is_grade_a():
    assert grade([r(rel="B", cred=2, key="1"), r(section="human_rights", rel="D", cred=4, key="2")]) == ("a", 2)


def test_same_named_source_twice_is_not_corroboration():
    reports = [r(name="Radio X", rel="D", cred=4, key="1"), r(name="radio x ", rel="D", cred=4, key="2")]
    assert independent_sources(reports) == 1
    assert grade(reports)[0] == "c"


def test_aggregated_source_counts_as_its_sources():
    assert grade([r(section="open_source", name="UCDP GED", rel="B", cred=2, count=3)]) == ("a", 3)


reports_st = st.lists(
    st.builds(r, section=st.sampled_from(["jmac", "police", "human_rights"]),
              name=st.one_of(st.none(), st.sampled_from(["A", "B"])),
              rel=st.sampled_from("ABCDEF"), cred=st.integers(1, 6), count=st.integers(1, 4),
              key=st.uuids().map(str)),
    min_size=1, max_size=6)


@given(reports_st, reports_st)
def test_adding_a_report_never_lowers_the_grade(base, extra):
    rank = {"c": 1, "b": 2, "a": 3}
    assert rank[grade(base + extra)[0]] >= rank[grade(base)[0]]


@given(reports_st)
def test_grade_does_not_depend_on_report_order(reports):
    assert grade(reports) == grade(list(reversed(reports)))


def test_two_imports_of_one_wire_story_are_one_source():
    from app.services.incidents.grading import ReportGrade, independent_sources

    ucdp = ReportGrade("open_source", "UCDP GED", "B", 2, 1, key="u", cites=("afp",))
    acled = ReportGrade("open_source", "AFP", "C", 3, 1, key="a", cites=("afp",))
    other = ReportGrade("open_source", "Radio Ndeke Luka", "C", 3, 1, key="r", cites=("radio ndeke luka",))
    assert independent_sources([ucdp, acled]) == 1
    assert independent_sources([ucdp, acled, other]) == 2
    # an aggregator citing three outlets, one of them shared: 3 + the new outlet
    agg = ReportGrade("open_source", "UCDP GED", "B", 2, 3, key="g", cites=("afp", "reuters", "bbc"))
    assert independent_sources([agg, acled]) == 3
    assert independent_sources([agg, other]) == 4
