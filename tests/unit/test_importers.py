"""Importers: each real-world format on small hand-written files, malformed input, reruns, the CLI."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from shopgraph.adapters.lake import landing_files, read_parquet, read_parquet_schema, write_parquet
from shopgraph.cli import app
from shopgraph.importers.common import DT, text_hash
from shopgraph.importers.parsing import (
    BlobError,
    age_band,
    drop_product_leaf,
    parse_category_list,
    parse_price_text,
    parse_specifications,
)
from shopgraph.importers.recbole import parse_typed_header
from shopgraph.importers.relevance_csv import rescale_relevance
from shopgraph.importers.report import ImportFormatError, ImportReport
from shopgraph.importers.runner import parse_source, run_import
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return str(path)


def rules(report: ImportReport) -> dict[tuple[str, str], list[int | None]]:
    return {(table, rule): [p.row for p in items] for table, rule, _, items in report.grouped()}


def check_landing(lake: Path) -> dict[str, pl.DataFrame]:
    """Every landing file matches its schema, keys are unique and non-null, required columns are set."""
    tables: dict[str, pl.DataFrame] = {}
    for table in L.LANDING_SCHEMAS | L.IMPORTED_SCHEMAS:
        frames = []
        for path in landing_files(str(lake), table):
            L.check_schema(read_parquet_schema(path), table, path)
            frame = read_parquet(path)
            keys = list(L.LANDING_KEYS[table])
            assert frame.select(keys).null_count().sum_horizontal().item() == 0, path
            assert not frame.select(keys).is_duplicated().any(), path
            required = [c for c in frame.columns if c not in L.LANDING_NULLABLE[table]]
            assert frame.select(required).null_count().sum_horizontal().item() == 0, path
            frames.append(frame)
        if frames:
            tables[table] = pl.concat(frames)
    return tables


# ---------------------------------------------------------------- relevance-csv

CROWDFLOWER_CSV = """"id","query","product_title","product_description","median_relevance","relevance_variance"
1,"bridal shower decorations","Accent Pillow with Heart Design - Red/Black","Red satin pillow. 8"" x 8"".",1,0
2,"led christmas lights","Set of 10 LED Lights","<p>Requires 3 ""AA"" batteries</p>",4,0
4,"projector","ViewSonic Pro8200 DLP Projector","",4,0.471
5,"projector","ViewSonic Pro8200 DLP Projector","",3,0.5
6,"","Orphan Title","x",2,0
7,"led christmas lights","Another Light","y",high,0
8,"led christmas lights","Accent Pillow with Heart Design - Red/Black","Red satin pillow. 8"" x 8"".",2,0
"""  # noqa: E501

CROWDFLOWER_MAPPING = """format: relevance-csv
namespace: cf
columns: {query: query, title: product_title, description: product_description, relevance: median_relevance}
relevance_min: 1
relevance_max: 4
"""


def test_relevance_csv_maps_judgments_and_reports_bad_rows(tmp_path: Path) -> None:
    source = write(tmp_path / "train.csv", CROWDFLOWER_CSV)
    mapping = write(tmp_path / "cf.yaml", CROWDFLOWER_MAPPING)
    result = parse_source("relevance-csv", source, mapping)
    judgments = result.tables[L.SEARCH_JUDGMENTS]
    products = result.tables[L.PRODUCTS]
    assert judgments.height == 4  # 7 rows - empty query - "high" - repeated (projector, ViewSonic)
    assert rules(result.report) == {
        (L.SEARCH_JUDGMENTS, "missing query"): [6],
        (L.SEARCH_JUDGMENTS, "non-numeric relevance"): [7],
        (L.SEARCH_JUDGMENTS, "duplicate judgment"): [5],
    }
    assert sorted(judgments[L.RELEVANCE].to_list()) == [0, 1, 3, 3]
    pillow = products.filter(pl.col(L.TITLE).str.starts_with("Accent"))
    assert pillow.height == 1  # two queries judged the same product: one product row
    assert pillow[L.DESCRIPTION].item() == 'Red satin pillow. 8" x 8".'
    expected_id = "cf:P" + text_hash(
        "Accent Pillow with Heart Design - Red/Black", 'Red satin pillow. 8" x 8".'
    )
    assert pillow[L.PRODUCT_ID].item() == expected_id
    projector = products.filter(pl.col(L.TITLE).str.starts_with("ViewSonic"))
    assert projector[L.DESCRIPTION].item() is None
    assert products[L.PRICE].null_count() == products.height
    assert set(products[L.CATEGORY_PATH]) == {"Uncategorised"}
    assert judgments[L.JUDGED_AT].unique().to_list() == [datetime(2026, 1, 2, tzinfo=UTC)]
    assert judgments[DT].unique().to_list() == [date(2026, 1, 2)]


def test_relevance_csv_ids_do_not_depend_on_row_order(tmp_path: Path) -> None:
    header, *rows = CROWDFLOWER_CSV.splitlines()
    first = parse_source(
        "relevance-csv",
        write(tmp_path / "a.csv", CROWDFLOWER_CSV),
        write(tmp_path / "m.yaml", CROWDFLOWER_MAPPING),
    )
    shuffled = "\n".join([header, *reversed(rows)]) + "\n"
    second = parse_source("relevance-csv", write(tmp_path / "b.csv", shuffled), str(tmp_path / "m.yaml"))
    ids = lambda result: set(result.tables[L.PRODUCTS][L.PRODUCT_ID])  # noqa: E731
    assert ids(first) == ids(second)


@pytest.mark.parametrize(
    ("grade", "low", "high", "expected"),
    [
        (1, 1, 4, 0),
        (4, 1, 4, 3),
        (2.5, 1, 4, 2),
        (1.0, 1, 3, 0),
        (2.33, 1, 3, 2),
        (2.67, 1, 3, 3),
        (3, 1, 3, 3),
        (5, 1, 4, 4),
    ],
)
def test_rescale_relevance(grade: float, low: float, high: float, expected: int) -> None:
    value = pl.select(rescale_relevance(pl.lit(grade, pl.Float64), low, high)).item()
    assert value == expected


def test_relevance_csv_missing_column_names_file_row_and_columns(tmp_path: Path) -> None:
    source = write(tmp_path / "train.csv", '"id","query","title"\n1,"a","b"\n')
    mapping = write(tmp_path / "cf.yaml", CROWDFLOWER_MAPPING)
    with pytest.raises(
        ImportFormatError, match=r"train\.csv, row 1: missing column: .*product_title.*median_relevance"
    ):
        parse_source("relevance-csv", source, mapping)


def test_relevance_csv_needs_a_mapping_and_rejects_unknown_keys(tmp_path: Path) -> None:
    source = write(tmp_path / "train.csv", CROWDFLOWER_CSV)
    with pytest.raises(ImportFormatError, match="needs a mapping file"):
        parse_source("relevance-csv", source)
    bad = write(tmp_path / "bad.yaml", CROWDFLOWER_MAPPING + "colums: {}\n")
    with pytest.raises(ImportFormatError, match=r"bad\.yaml: mapping fields: colums"):
        parse_source("relevance-csv", source, bad)
    wrong = write(tmp_path / "wrong.yaml", CROWDFLOWER_MAPPING.replace("relevance-csv", "catalog-csv"))
    with pytest.raises(ImportFormatError, match="not 'relevance-csv'"):
        parse_source("relevance-csv", source, wrong)


def test_relevance_csv_invalid_utf8_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(CROWDFLOWER_CSV.encode() + b'9,"caf\xe9","Mug","",3,0\n')
    with pytest.raises(ImportFormatError, match=r"row 9: utf-8 text: .*encoding"):
        parse_source("relevance-csv", str(path), write(tmp_path / "cf.yaml", CROWDFLOWER_MAPPING))


def test_home_depot_style_with_ids_latin1_and_description_file(tmp_path: Path) -> None:
    write(
        tmp_path / "train.csv",
        '"id","product_uid","product_title","search_term","relevance"\n'
        '2,100001,"Simpson Strong-Tie 12-Gauge Angle","angle bracket",3\n'
        '3,100001,"Simpson Strong-Tie 12-Gauge Angle","l bracket",2.5\n'
        '9,100002,"BEHR Premium Textured Deck Paint","deck caf\xe9",2.33\n'
        '16,,"No id product","anything",1\n',
        encoding="latin-1",
    )
    write(
        tmp_path / "product_descriptions.csv",
        'product_uid,product_description\n100001,"Not only do angles make joints"\n',
    )
    mapping = write(
        tmp_path / "hd.yaml",
        (Path(__file__).parents[2] / "conf" / "mappings" / "homedepot.yaml").read_text(),
    )
    result = parse_source("relevance-csv", str(tmp_path / "train.csv"), mapping)
    products = result.tables[L.PRODUCTS].sort(L.PRODUCT_ID)
    assert products[L.PRODUCT_ID].to_list() == ["homedepot:100001", "homedepot:100002"]
    assert products[L.DESCRIPTION].to_list() == ["Not only do angles make joints", None]
    assert products[L.CURRENCY].unique().to_list() == ["USD"]
    judgments = result.tables[L.SEARCH_JUDGMENTS].sort(L.QUERY)
    assert judgments[L.QUERY].to_list() == ["angle bracket", "deck café", "l bracket"]
    assert judgments[L.RELEVANCE].to_list() == [3, 2, 2]
    assert rules(result.report) == {(L.SEARCH_JUDGMENTS, "missing product id"): [5]}


# ---------------------------------------------------------------- catalog-csv

FLIPKART_CSV = """uniq_id,product_name,product_category_tree,pid,retail_price,description,brand,product_specifications
a1,aw bellies,"['footwear', 'womens footwear', 'ballerinas', 'aw bellies']",SHOE1,999.0,red bellies,aw,"[{'key': 'Color', 'value': 'Red'}, {'key': 'Outer Material', 'value': 'Patent Leather'}, {'value': 'One Pair Of Shoes'}]"
a2,alisha shorts,"[""Clothing >> Women's Clothing >> Shorts""]",SHRT1,0.0,,alisha,"{""product_specification""=>[{""key""=>""Fabric"", ""value""=>""Cotton""}]}"
a3,evil paperweight,"__import__('os').system('touch pwned')",PW1,abc,,,"__import__('os').system('touch pwned')"
a4,,"['x']",NOTITLE,10,,,
a5,aw bellies again,"['footwear']",SHOE1,5,,,
a6,gandhi paper weight,"['gandhi paper weight mark v']",PW2,430,,,"[{'key': 'Weight', 'value': '323 g'}]"
"""  # noqa: E501


def flipkart_mapping(tmp_path: Path) -> str:
    text = (Path(__file__).parents[2] / "conf" / "mappings" / "flipkart.yaml").read_text()
    return write(tmp_path / "flipkart.yaml", text)


def test_catalog_csv_maps_flipkart_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = write(tmp_path / "product.csv", FLIPKART_CSV)
    result = parse_source("catalog-csv", source, flipkart_mapping(tmp_path))
    products = result.tables[L.PRODUCTS].sort(L.PRODUCT_ID)
    assert products[L.PRODUCT_ID].to_list() == [
        "flipkart:PW1",
        "flipkart:PW2",
        "flipkart:SHOE1",
        "flipkart:SHRT1",
    ]
    shoe = products.filter(pl.col(L.PRODUCT_ID) == "flipkart:SHOE1").row(0, named=True)
    assert shoe[L.CATEGORY_PATH] == "footwear > womens footwear > ballerinas"  # product leaf dropped
    assert shoe[L.PRICE] == 999.0 and shoe[L.CURRENCY] == "INR" and shoe[L.BRAND] == "aw"
    assert shoe[L.COLOUR] == "red" and shoe[L.MATERIAL] == "patent leather"
    assert shoe[L.ATTRIBUTES] == [
        {"key": "Color", "value": "Red"},
        {"key": "Outer Material", "value": "Patent Leather"},
    ]
    shorts = products.filter(pl.col(L.PRODUCT_ID) == "flipkart:SHRT1").row(0, named=True)
    assert shorts[L.CATEGORY_PATH] == "Clothing > Women's Clothing > Shorts"
    assert shorts[L.ATTRIBUTES] == [{"key": "Fabric", "value": "Cotton"}] and shorts[L.MATERIAL] == "cotton"
    assert shorts[L.PRICE] is None and shorts[L.DESCRIPTION] is None
    evil = products.filter(pl.col(L.PRODUCT_ID) == "flipkart:PW1").row(0, named=True)
    assert evil[L.CATEGORY_PATH] == "Uncategorised" and evil[L.ATTRIBUTES] == [] and evil[L.PRICE] is None
    assert not (tmp_path / "pwned").exists()
    assert rules(result.report) == {
        (L.PRODUCTS, "missing title"): [5],
        (L.PRODUCTS, "duplicate product id"): [6],
        (L.PRODUCTS, "no usable price"): [3, 4],
        (L.PRODUCTS, "unreadable category"): [4],
        (L.PRODUCTS, "no category"): [4, 7],
        (L.PRODUCTS, "specification without key"): [2],
        (L.PRODUCTS, "unreadable specifications"): [4],
    }
    assert result.report.dropped(L.PRODUCTS) == 2


def test_catalog_csv_missing_column(tmp_path: Path) -> None:
    source = write(tmp_path / "product.csv", "uniq_id,product_name\n1,x\n")
    with pytest.raises(
        ImportFormatError, match=r"product\.csv, row 1: missing column: .*product_category_tree"
    ):
        parse_source("catalog-csv", source, flipkart_mapping(tmp_path))


def test_parse_specifications_forms() -> None:
    assert parse_specifications("[{'key': 'Color', 'value': 'Red'}, {'value': 'x'}]") == (
        [{"key": "Color", "value": "Red"}],
        1,
    )
    assert parse_specifications("{'key': ' Body  Material', 'value': 'croco'}") == (
        [{"key": "Body Material", "value": "croco"}],
        0,
    )
    assert parse_specifications('{"product_specification"=>[{"key"=>"Type", "value"=>"Analog"}]}') == (
        [{"key": "Type", "value": "Analog"}],
        0,
    )
    for bad in ("[1, 2]", "os.system('x')", "[{'key': 'a'}]", "{'a': [" * 10):
        with pytest.raises(BlobError):
            parse_specifications(bad)


def test_parse_category_list_and_leaf() -> None:
    assert parse_category_list("['a', 'b  c']") == ["a", "b c"]
    assert parse_category_list('["A >> B >> C"]') == ["A", "B", "C"]
    with pytest.raises(BlobError):
        parse_category_list("[open('x')]")
    assert drop_product_leaf(["pets", "sicons shampoo 500 ml"], "Sicons  shampoo") == ["pets"]
    assert drop_product_leaf(["pets", "shampoo"], "sicons shampoo") == ["pets", "shampoo"]


@pytest.mark.parametrize(
    ("text", "price"),
    [("$12.99", 12.99), ("₹1,299", 1299.0), ("24.99", 24.99), ("$5.99 - $12.99", None), ("", None)],
)
def test_parse_price_text(text: str, price: float | None) -> None:
    assert parse_price_text(text) == price


@pytest.mark.parametrize(
    ("age", "band"), [(7, None), (18, "18-24"), (34, "25-34"), (64, "55-64"), (73, "65+"), (None, None)]
)
def test_age_band(age: int | None, band: str | None) -> None:
    assert age_band(age) == band


# ---------------------------------------------------------------- recbole


def recbole_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-ml"
    write(
        folder / "tiny-ml.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "196\t242\t3\t881250949\n"
        "186\t302\t3\t891717742\n"
        "22\t377\tgood\t878887116\n"
        "22\t377\t1\n"
        "244\t51\t2.5\t880606923\n"
        "166\t999\t1\t886397596\n",
    )
    write(
        folder / "tiny-ml.item",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "242\tKolya\t1996\tComedy\n302\tL.A. Confidential\t1997\tCrime Film-Noir Mystery Thriller\n"
        "377\tHeavyweights\t1994\tChildren's Comedy\n"
        '51\t"Legends of the Fall"\t1994\tDrama Romance War Western\n',
    )
    write(
        folder / "tiny-ml.user",
        "user_id:token\tage:token\tgender:token\toccupation:token\n196\t49\tM\twriter\n186\t39\tF\texecutive\n22\t7\tM\tstudent\n",
    )
    write(
        folder / "tiny-ml.kg",
        "head_id:token\trelation_id:token\ttail_id:token\nm.1\tfilm.actor\tm.2\nm.1\tfilm.actor\tm.2\nm.3\tfilm.genre\tm.4\n",
    )
    write(folder / "tiny-ml.link", "item_id:token\tentity_id:token\n242\tm.1\n302\tm.3\n")
    return folder


def test_recbole_maps_every_atomic_file(tmp_path: Path) -> None:
    result = parse_source("recbole", str(recbole_folder(tmp_path)))
    assert result.report.namespace == "tiny-ml"
    events = result.tables[L.EVENTS].sort(L.EVENT_ID)
    assert events[L.EVENT_ID].to_list() == ["tiny-ml:E000000002", "tiny-ml:E000000003", "tiny-ml:E000000007"]
    assert events[L.SESSION_ID].to_list() == [
        "tiny-ml:S000000002",
        "tiny-ml:S000000003",
        "tiny-ml:S000000007",
    ]
    assert set(events[L.EVENT_TYPE]) == {L.RATE}
    assert events.row(0, named=True)[L.TS] == datetime(1997, 12, 4, 15, 55, 49, tzinfo=UTC)
    assert events.row(0, named=True)[DT] == date(1997, 12, 4)
    assert result.snapshot_day == date(1997, 12, 3)  # the day before the first usable rating
    assert rules(result.report) == {
        (L.EVENTS, "wrong number of fields"): [5],
        (L.EVENTS, "non-numeric rating"): [4],
        (L.EVENTS, "fractional rating"): [6],
        (L.KG_TRIPLES, "duplicate triple"): [3],
    }
    products = result.tables[L.PRODUCTS].sort(L.PRODUCT_ID)
    assert products[L.PRODUCT_ID].to_list() == [
        "tiny-ml:242",
        "tiny-ml:302",
        "tiny-ml:377",
        "tiny-ml:51",
        "tiny-ml:999",
    ]
    legends = products.filter(pl.col(L.PRODUCT_ID) == "tiny-ml:51").row(0, named=True)
    assert legends[L.TITLE] == '"Legends of the Fall"'  # quotes are text, not CSV quoting
    assert legends[L.CATEGORY_PATH] == "Drama"
    assert {"key": "release_year", "value": "1994"} in legends[L.ATTRIBUTES]
    assert products.filter(pl.col(L.PRODUCT_ID) == "tiny-ml:999")[L.TITLE].item() == "item 999"
    users = result.tables[L.USERS].sort(L.USER_ID)
    assert users[L.USER_ID].to_list() == ["tiny-ml:166", "tiny-ml:186", "tiny-ml:196", "tiny-ml:22"]
    assert users[L.AGE_BAND].to_list() == [None, "35-44", "45-54", None]
    assert set(users[L.COUNTRY]) == {"US"}
    assert users[L.SIGNUP_AT].unique().to_list() == [datetime(1997, 12, 3, tzinfo=UTC)]
    triples = result.tables[L.KG_TRIPLES]
    assert triples.select(L.HEAD_ENTITY, L.RELATION, L.TAIL_ENTITY).rows() == [
        ("tiny-ml:m.1", "film.actor", "tiny-ml:m.2"),
        ("tiny-ml:m.3", "film.genre", "tiny-ml:m.4"),
    ]
    assert result.tables[L.ENTITY_LINKS].select(L.PRODUCT_ID, L.ENTITY_ID).rows()[0] == (
        "tiny-ml:242",
        "tiny-ml:m.1",
    )
    assert any("gender, occupation" in note for note in result.report.notes)


@pytest.mark.parametrize(
    "header", ["user_id:integer\titem_id:token", "user_id\titem_id:token", "user_id:token\tuser_id:token"]
)
def test_recbole_bad_typed_header_is_fatal(tmp_path: Path, header: str) -> None:
    folder = tmp_path / "bad"
    write(folder / "bad.inter", header + "\n1\t2\n")
    with pytest.raises(ImportFormatError, match=r"bad\.inter, row 1: typed header"):
        parse_source("recbole", str(folder))


def test_recbole_missing_item_field_is_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write(folder / "bad.inter", "user_id:token\tproduct:token\n1\t2\n")
    with pytest.raises(ImportFormatError, match=r"row 1: missing field: the header needs item_id"):
        parse_source("recbole", str(folder))


def test_parse_typed_header() -> None:
    fields = parse_typed_header("user_id:token\tclass:token_seq\tscore:float_seq", "f")
    assert [(f.name, f.type) for f in fields] == [
        ("user_id", "token"),
        ("class", "token_seq"),
        ("score", "float_seq"),
    ]


def test_recbole_without_ratings_or_times_gives_views_after_the_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "implicit"
    write(folder / "implicit.inter", "user_id:token\titem_id:token\n1\t10\n2\t10\n")
    result = parse_source("recbole", str(folder), day=date(2025, 3, 1))
    events = result.tables[L.EVENTS]
    assert set(events[L.EVENT_TYPE]) == {L.VIEW} and events[L.RATING].null_count() == 2
    assert set(events[L.TS]) == {datetime(2025, 3, 2, tzinfo=UTC)}
    assert result.tables[L.PRODUCTS][L.TITLE].to_list() == ["item 10"]


# ---------------------------------------------------------------- kgat


def kgat_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "last-fm"
    write(folder / "train.txt", "0 0 1 2\n1 2 3 3\n2 x 4\n3\n\n")
    write(folder / "test.txt", "0 5\n1 0 1\n")
    return folder


def test_kgat_keeps_the_given_split(tmp_path: Path) -> None:
    result = parse_source("kgat", str(kgat_folder(tmp_path)), day=date(2025, 1, 1))
    events = result.tables[L.EVENTS]
    splits = result.tables[L.INTERACTION_SPLITS]
    assert events.height == 8 and splits.height == 8
    joined = events.join(splits, on=L.EVENT_ID)
    train = joined.filter(pl.col(L.SPLIT) == "train")
    test = joined.filter(pl.col(L.SPLIT) == "test")
    assert sorted(zip(train[L.USER_ID], train[L.PRODUCT_ID], strict=True)) == [
        ("last-fm:0", "last-fm:0"),
        ("last-fm:0", "last-fm:1"),
        ("last-fm:0", "last-fm:2"),
        ("last-fm:1", "last-fm:2"),
        ("last-fm:1", "last-fm:3"),
    ]
    assert sorted(zip(test[L.USER_ID], test[L.PRODUCT_ID], strict=True)) == [
        ("last-fm:0", "last-fm:5"),
        ("last-fm:1", "last-fm:0"),
        ("last-fm:1", "last-fm:1"),
    ]
    assert train[L.TS].max() < test[L.TS].min()  # a time-ordered split reproduces the given one
    assert (joined[DT] == joined[f"{DT}_right"]).all()  # a split row lives in its event's partition
    assert set(events[L.EVENT_TYPE]) == {L.VIEW}
    assert train.filter(pl.col(L.USER_ID) == "last-fm:0")[L.SESSION_ID].n_unique() == 1
    assert rules(result.report) == {(L.EVENTS, "repeated item"): [2], (L.EVENTS, "non-integer id"): [3]}
    assert result.tables[L.PRODUCTS].height == 5 and result.tables[L.USERS].height == 2


def test_kgat_needs_both_split_files(tmp_path: Path) -> None:
    folder = kgat_folder(tmp_path)
    (folder / "test.txt").unlink()
    with pytest.raises(ImportFormatError, match=r"test\.txt: kgat split file"):
        parse_source("kgat", str(folder))
    with pytest.raises(ImportFormatError, match="kgat folder"):
        parse_source("kgat", str(folder / "train.txt"))


# ---------------------------------------------------------------- amazon-reviews


def amazon_files(tmp_path: Path) -> tuple[str, str]:
    reviews = [
        {
            "overall": 5.0,
            "reviewerID": "A1",
            "asin": "B01",
            "reviewText": "Great",
            "summary": "Five Stars",
            "unixReviewTime": 1441324800,
            "style": {"Size:": " M"},
        },
        {
            "overall": 2.0,
            "reviewerID": "A2",
            "asin": "B01",
            "reviewText": "Too small",
            "unixReviewTime": 1441411200,
        },
        "not json at all {",
        {
            "overall": "five",
            "reviewerID": "A3",
            "asin": "B02",
            "reviewText": "?",
            "unixReviewTime": 1441411200,
        },
        {"overall": 4.0, "reviewerID": "A3", "asin": "B02", "unixReviewTime": 1441497600},
        {"overall": 3.0, "reviewerID": "A1", "asin": "B03", "reviewText": "ok", "unixReviewTime": 1441497600},
    ]
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in reviews) + "\n"
    review_path = tmp_path / "Fashion_5.json.gz"
    review_path.write_bytes(gzip.compress(text.encode()))
    meta = [
        '{"asin": "B01", "title": "Runner Tee", "brand": "Acme", "price": "$12.99", "category": ["Clothing", "Men", "Shirts"], "description": ["Soft", "Cotton"]}',  # noqa: E501
        "{'asin': 'B02', 'title': 'Old Style Dict', 'price': '$5.99 - $12.99', 'categories': [['Shoes', 'Boots']]}",  # noqa: E501
        '{"asin": "B01", "title": "Repeated"}',
        "{broken",
    ]
    meta_path = write(tmp_path / "meta.json", "\n".join(meta) + "\n")
    return str(review_path), meta_path


def test_amazon_reviews_with_metadata(tmp_path: Path) -> None:
    reviews, meta = amazon_files(tmp_path)
    result = parse_source("amazon-reviews", reviews, metadata_path=meta, namespace="fashion")
    assert rules(result.report) == {
        (L.REVIEWS, "bad JSON line"): [3],
        (L.EVENTS, "bad JSON line"): [3],
        (L.REVIEWS, "non-numeric rating"): [4],
        (L.EVENTS, "non-numeric rating"): [4],
        (L.REVIEWS, "missing reviewText"): [5],
        (L.PRODUCTS, "no usable price"): [2],
        (L.PRODUCTS, "duplicate asin"): [3],
        (L.PRODUCTS, "bad JSON line"): [4],
    }
    events, texts = result.tables[L.EVENTS], result.tables[L.REVIEWS]
    assert events.height == 4 and texts.height == 3
    assert set(events[L.EVENT_TYPE]) == {L.RATE}
    first = texts.sort(L.REVIEW_ID).row(0, named=True)
    assert (
        first[L.REVIEW_ID] == "fashion:R000000001" and first[L.TITLE] == "Five Stars" and first[L.RATING] == 5
    )
    assert first[L.TS] == datetime(2015, 9, 4, tzinfo=UTC) and first[DT] == date(2015, 9, 4)
    assert texts.filter(pl.col(L.REVIEW_ID) == "fashion:R000000002")[L.TITLE].item() is None
    products = result.tables[L.PRODUCTS].sort(L.PRODUCT_ID)
    assert products.select(L.PRODUCT_ID, L.TITLE, L.PRICE, L.CATEGORY_PATH).rows() == [
        ("fashion:B01", "Runner Tee", 12.99, "Clothing > Men > Shirts"),
        ("fashion:B02", "Old Style Dict", None, "Shoes > Boots"),
        ("fashion:B03", "item B03", None, "Uncategorised"),
    ]
    assert products[L.DESCRIPTION][0] == "Soft\nCotton" and set(products[L.CURRENCY]) == {"USD"}
    assert result.tables[L.USERS][L.USER_ID].sort().to_list() == ["fashion:A1", "fashion:A2", "fashion:A3"]
    assert result.snapshot_day == date(2015, 9, 3)


def test_amazon_reviews_without_metadata(tmp_path: Path) -> None:
    reviews, _ = amazon_files(tmp_path)
    result = parse_source("amazon-reviews", reviews)
    assert result.report.namespace == "fashion_5"
    assert result.tables[L.PRODUCTS][L.TITLE].sort().to_list() == ["item B01", "item B02", "item B03"]


# ---------------------------------------------------------------- writing, reruns, the command


def test_import_writes_valid_landing_files_and_reruns_identically(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    generator_file = lake / "landing" / "products" / "dt=1997-12-03" / "part-00000.parquet"
    write_parquet(pl.DataFrame(schema=L.PRODUCTS_SCHEMA), str(generator_file))
    generator_bytes = generator_file.read_bytes()
    folder = recbole_folder(tmp_path)
    _, first = run_import("recbole", str(folder), str(lake))
    tables = check_landing(lake)
    assert {table: frame.height for table, frame in tables.items()} == {
        L.PRODUCTS: 5,
        L.USERS: 4,
        L.EVENTS: 3,
        L.KG_TRIPLES: 2,
        L.ENTITY_LINKS: 2,
    }
    snapshot = {p: Path(p).read_bytes() for files in first.files.values() for p in files}
    _, second = run_import("recbole", str(folder), str(lake))
    assert {p: Path(p).read_bytes() for files in second.files.values() for p in files} == snapshot
    assert second.removed == []
    assert generator_file.read_bytes() == generator_bytes
    report = json.loads((lake / "import_reports" / "tiny-ml.json").read_text())
    assert report["rows"][L.EVENTS] == 3
    assert {p["rule"]: p["count"] for p in report["problems"]}["wrong number of fields"] == 1


def test_rerun_with_another_snapshot_day_replaces_the_import(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    folder = kgat_folder(tmp_path)
    run_import("kgat", str(folder), str(lake), day=date(2025, 1, 1))
    _, again = run_import("kgat", str(folder), str(lake), day=date(2025, 2, 1))
    assert again.removed  # the first import's partitions are gone
    tables = check_landing(lake)
    assert tables[L.EVENTS].height == 8 and tables[L.INTERACTION_SPLITS].height == 8
    assert not (lake / "landing" / "events" / "dt=2025-01-02").exists()


def test_command_prints_rows_and_unmapped(tmp_path: Path) -> None:
    source = write(tmp_path / "train.csv", CROWDFLOWER_CSV)
    mapping = write(tmp_path / "cf.yaml", CROWDFLOWER_MAPPING)
    lake = tmp_path / "lake"
    result = CliRunner().invoke(
        app,
        [
            "import",
            "relevance-csv",
            source,
            "--lake",
            str(lake),
            "--mapping",
            mapping,
            "--date",
            "2025-05-01",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "search_judgments" in result.output and "could not map" in result.output
    assert "search_judgments: non-numeric relevance: 1 rows dropped" in result.output
    assert "train.csv, row 7: median_relevance = high" in result.output
    assert landing_files(str(lake), L.SEARCH_JUDGMENTS)[0].endswith("dt=2025-05-02/part-cf-00000.parquet")


def test_command_error_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write(folder / "bad.inter", "user_id:int\titem_id:token\n")
    command = [
        sys.executable,
        "-m",
        "shopgraph.cli",
        "import",
        "recbole",
        str(folder),
        "--lake",
        str(tmp_path / "lake"),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1
    assert (
        "bad.inter, row 1: typed header" in done.stderr.replace("\n", " ") and "Traceback" not in done.stderr
    )


@pytest.mark.parametrize("table", sorted(L.IMPORTED_SCHEMAS))
def test_imported_tables_have_keys_and_pass_check_schema(table: str) -> None:
    schema = L.IMPORTED_SCHEMAS[table]
    L.check_schema(pl.DataFrame(schema=schema), table, "empty.parquet")
    assert set(L.LANDING_KEYS[table]) <= set(schema)
    with pytest.raises(L.SchemaError, match="missing columns"):
        L.check_schema(pl.DataFrame(schema=schema).drop(next(iter(schema))), table, "x.parquet")
