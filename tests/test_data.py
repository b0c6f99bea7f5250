"""regjax.data: the embedded data sets equal scikit-learn's copies; standardize; generators."""

from __future__ import annotations

import numpy as np
import pytest

from regjax import data


def test_embedded_data_equal_scikit_learns_copies():
    from sklearn import datasets

    bc = datasets.load_breast_cancer()
    ours = data.load_breast_cancer(standardized=False)
    np.testing.assert_array_equal(ours.X, bc.data)
    np.testing.assert_array_equal(ours.y, bc.target)
    digits = datasets.load_digits()
    ours = data.load_digits(scaled=False)
    np.testing.assert_array_equal(ours.X, digits.data)
    np.testing.assert_array_equal(ours.y, digits.target)
    diabetes = datasets.load_diabetes(scaled=False)
    ours = data.load_diabetes(standardized=False)
    np.testing.assert_allclose(ours.X, diabetes.data, rtol=1e-12)
    np.testing.assert_array_equal(ours.y, diabetes.target)


def test_standardize_and_generators():
    X = data.load_breast_cancer().X
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    a, b = data.make_classification(50, 3, seed=2), data.make_classification(50, 3, seed=2)
    np.testing.assert_array_equal(a.X, b.X)
    corr = np.corrcoef(data.make_regression(20_000, 2, correlation=0.5).X.T)[0, 1]
    assert abs(corr - 0.5) < 0.03
    with pytest.raises(ValueError, match="name"):
        data.load("mnist")
    with pytest.raises(ValueError, match="correlation"):
        data.make_regression(10, 2, correlation=1.0)


# --- the user's own files: CSV and NPZ ---------------------------------------------------


def _csv(tmp_path, text: str, name: str = "table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _table(rng, m: int = 12, n: int = 3) -> np.ndarray:
    return np.round(rng.standard_normal((m, n + 1)), 6)


def test_csv_with_a_header_reads_the_features_and_the_named_target(tmp_path, rng):
    table = _table(rng)
    path = tmp_path / "t.csv"
    np.savetxt(path, table, delimiter=",", header="a,b,y,c", comments="", fmt="%.6f")
    d = data.load_file(path, target="y")
    np.testing.assert_array_equal(d.X, table[:, [0, 1, 3]])  # the written numbers, exactly
    np.testing.assert_array_equal(d.y, table[:, 2])
    assert (d.task, d.name, d.classes) == ("regression", "t", None)
    for target, column in ((None, 3), (0, 0), (-2, 2), ("1", 1), ("c", 3)):
        np.testing.assert_array_equal(data.load_file(path, target=target).y, table[:, column])
    np.testing.assert_array_equal(data.load(str(path), target="y").X, d.X)  # load = load_file


def test_csv_without_a_header_starts_with_data(tmp_path, rng):
    table = _table(rng)
    path = tmp_path / "raw.csv"
    np.savetxt(path, table, delimiter=",", fmt="%.6f")
    d = data.load_file(path)
    np.testing.assert_array_equal(d.X, table[:, :3])
    np.testing.assert_array_equal(d.y, table[:, 3])
    # iris-like: text labels in every row, no header; the first row is data
    path = _csv(tmp_path, "5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n")
    d = data.load_file(path)
    np.testing.assert_array_equal(d.X, [[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]])
    np.testing.assert_array_equal(d.y, [0, 1, 2, 0])
    assert d.y.dtype == np.int64 and d.task == "multiclass"
    assert d.classes == ("setosa", "versicolor", "virginica")


def test_categorical_target_is_numbered_in_sorted_order(tmp_path):
    path = _csv(tmp_path, "x,kind\n1,dog\n2,cat\n3,dog\n4,cat\n\n5,dog\n")  # a blank line
    d = data.load_file(path, target="kind")
    assert (d.task, d.classes) == ("binary", ("cat", "dog"))
    np.testing.assert_array_equal(d.y, [1.0, 0.0, 1.0, 0.0, 1.0])
    assert d.y.dtype == np.float64  # binary labels as {0., 1.}, like the embedded sets
    d = data.load_file(path, target="kind", task="multiclass")  # 2 classes, softmax
    np.testing.assert_array_equal(d.y, [1, 0, 1, 0, 1])
    assert d.y.dtype == np.int64 and d.task == "multiclass"


@pytest.mark.parametrize(
    ("labels", "task", "expected"),
    [
        ([-1, 1, 1, -1], "binary", [0, 1, 1, 0]),  # {-1, 1}: classes 0 and 1
        ([3, 1, 2, 1], "multiclass", [2, 0, 1, 0]),
        ([0.0, 2.0, 1.0, 2.0], "multiclass", [0, 2, 1, 2]),  # integer-valued floats
        ([0.5, 1.0, 2.0, 0.5], "regression", [0.5, 1.0, 2.0, 0.5]),  # a fraction: regression
    ],
)
def test_task_is_inferred_from_the_target(tmp_path, labels, task, expected):
    rows = "".join(f"{k},{v}\n" for k, v in enumerate(labels))
    d = data.load_file(_csv(tmp_path, "x,y\n" + rows))
    assert d.task == task
    np.testing.assert_array_equal(d.y, expected)


def test_more_distinct_integers_than_max_classes_are_a_regression(tmp_path):
    k = data.MAX_CLASSES
    for distinct, task in ((k, "multiclass"), (k + 1, "regression")):
        rows = "".join(f"{j},{j * 10}\n" for j in range(distinct))
        assert data.load_file(_csv(tmp_path, "x,y\n" + rows)).task == task


def test_task_override_is_checked_against_the_target(tmp_path):
    path = _csv(tmp_path, "x,y\n1,0\n2,1\n3,2\n")
    d = data.load_file(path, task="regression")
    assert d.task == "regression" and d.y.dtype == np.float64
    np.testing.assert_array_equal(d.y, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"target column 'y' holds 3 classes, not the 2 of a bin"):
        data.load_file(path, task="binary")
    with pytest.raises(ValueError, match=r"non-integer values \(e.g. 0.5\), not the class labels"):
        data.load_file(_csv(tmp_path, "x,y\n1,0.5\n2,1\n"), task="multiclass")
    with pytest.raises(ValueError, match=r"holds text \(e.g. 'a'\), not the numbers of a regr"):
        data.load_file(_csv(tmp_path, "x,y\n1,a\n2,b\n"), task="regression")
    with pytest.raises(ValueError, match="holds one class only"):
        data.load_file(_csv(tmp_path, "x,y\n1,a\n2,a\n"))
    message = r"task must be one of \['binary', 'multiclass', 'regression'\], got 'classif'"
    with pytest.raises(ValueError, match=message):
        data.load_file(path, task="classif")
    with pytest.raises(ValueError, match=message):
        data.load("digits", task="classif")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,y\n1,2,0\n3,,1\n", r"t.csv: row 3, column 'b' has a missing value \(''\)"),
        ("a,b,y\n1,2,0\n3,NA,1\n", r"row 3, column 'b' has a missing value \('NA'\)"),
        ("a,b,y\n1,2,0\n\n3,4,?\n", r"row 4, column 'y' has a missing value \('\?'\)"),
        ("a,b,y\n1,inf,0\n3,4,1\n", r"row 2, column 'b' is not finite \('inf'\)"),
        ("1,2,0\n3,-inf,1\n", r"row 2, column 1 is not finite"),  # no header: an index
        ("a,c,y\n1,red,0\n3,blue,1\n", r"row 2, column 'c': 'red' is not a number; a feature"),
        ("a,b,y\n1,2,0\n3,4\n", r"t.csv: row 3 has 2 columns, the first has 3"),
        ("a;b;y\n1;2;0\n", r"t.csv: needs 2 or more comma-separated columns, found 1"),
        ("\n\n", r"t.csv: the file holds no rows"),
        ("a,b,y\n", r"t.csv: the file holds a header and no data rows"),
    ],
)
def test_bad_csv_names_the_file_row_and_column(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        data.load_file(_csv(tmp_path, text, "t.csv"))


def test_bad_target_names_the_target_and_the_columns(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", "t.csv")
    with pytest.raises(
        ValueError, match=r"target 'z' is not a column of .*t.csv \(columns: a, b, y"
    ):
        data.load_file(path, target="z")
    with pytest.raises(ValueError, match=r"target 3 is out of range: .*t.csv has 3 columns"):
        data.load_file(path, target=3)
    with pytest.raises(TypeError, match=r"target must be a column name or index, got 1.5"):
        data.load_file(path, target=1.5)
    raw = _csv(tmp_path, "1,2,0\n3,4,1\n", "raw.csv")
    with pytest.raises(ValueError, match=r"target 'y' is not a column of .*raw.csv \(no header"):
        data.load_file(raw, target="y")


def test_files_that_are_not_there_or_not_text(tmp_path):
    with pytest.raises(ValueError, match=r"path '.*gone.csv': no such file"):
        data.load_file(tmp_path / "gone.csv")
    with pytest.raises(ValueError, match="is a directory"):
        data.load_file(tmp_path)
    binary = tmp_path / "latin1.csv"
    binary.write_bytes(b"a,y\n\xe9,1\n")
    with pytest.raises(ValueError, match=r"latin1.csv: not a UTF-8 text \(CSV\) file"):
        data.load_file(binary)


def test_npz_reads_X_and_y(tmp_path, rng):
    X = rng.standard_normal((6, 2))
    path = tmp_path / "arrays.npz"
    np.savez(path, X=X, y=np.array(["b", "a", "c", "a", "b", "c"]), score=X[:, 0] * 2.5)
    d = data.load_file(path)
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, [1, 0, 2, 0, 1, 2])
    assert (d.task, d.classes, d.name) == ("multiclass", ("a", "b", "c"), "arrays")
    d = data.load(path, target="score")  # another array as the target; a Path is a path
    np.testing.assert_array_equal(d.y, X[:, 0] * 2.5)
    assert d.task == "regression"
    renamed = tmp_path / "arrays.bin"  # an NPZ without its suffix: known by its signature
    renamed.write_bytes(path.read_bytes())
    assert data.load_file(renamed, target="score").task == "regression"


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.ones((3, 2))}, r"a.npz: no array 'y' \(the file holds \['X'\]\)"),
        ({"data": np.ones((3, 2)), "y": np.ones(3)}, r"no array 'X' \(the file holds \['data',"),
        ({"X": np.ones(3), "y": np.ones(3)}, r"array 'X' must be 2-D numbers \(m, n\), got"),
        ({"X": np.ones((3, 2)), "y": np.ones(4)}, r"array 'y' must be 1-D \(m,\) = \(3,\)"),
        ({"X": np.array([[1.0, np.nan]]), "y": np.ones(1)}, r"'X' is not finite at index \(0, 1\)"),
    ],
)
def test_bad_npz_names_the_file_and_the_array(tmp_path, arrays, message):
    path = tmp_path / "a.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        data.load_file(path)


def test_npz_that_is_not_an_archive(tmp_path):
    path = _csv(tmp_path, "not a zip", "fake.npz")
    with pytest.raises(ValueError, match=r"fake.npz: not a readable NPZ file"):
        data.load_file(path)
    np.savez(tmp_path / "ok.npz", X=np.ones((2, 1)), y=np.ones(2))
    with pytest.raises(TypeError, match=r"target of an NPZ file must be an array's name, got 0"):
        data.load_file(tmp_path / "ok.npz", target=0)


def test_load_tells_names_from_paths(tmp_path):
    assert data.is_path("wine.csv") and data.is_path("W.NPZ") and not data.is_path("digits")
    assert data.is_path(tmp_path / "anything")
    existing = _csv(tmp_path, "1,0\n2,1\n", "digits")  # an existing file is a path
    assert data.is_path(str(existing)) and data.load(str(existing)).name == "digits"
    assert data.load("digits", task="multiclass").X.shape == (1797, 64)
    with pytest.raises(ValueError, match=r"target picks a column of a CSV/NPZ file, not of the"):
        data.load("digits", target="y")
    with pytest.raises(ValueError, match=r"task 'binary' does not fit the embedded 'digits'"):
        data.load("digits", task="binary")
    with pytest.raises(ValueError, match=r"or the path of a .csv or .npz file, got 'wine'"):
        data.load("wine")
