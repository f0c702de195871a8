"""learning_verdict: plain statuses for a model that learnt, one that did not, one below the k-mer baseline."""

from deepdife_core.train.metrics import learning_verdict


def test_verdicts():
    hist = [{"val_auroc": 0.52}, {"val_auroc": 0.55}]
    v = learning_verdict({"auroc": 0.53, "evaluated_on": "test"}, hist)
    assert v["status"] == "not_learning" and "has not learnt" in v["message"] and "EvoAug" in v["message"]
    v = learning_verdict({"auroc": 0.80, "baseline_kmer": {"auroc": 0.85}}, [{"val_auroc": 0.8}])
    assert v["status"] == "below_baseline" and "0.850" in v["message"]
    v = learning_verdict({"auroc": 0.90, "baseline_kmer": {"auroc": 0.85}}, [{"val_auroc": 0.9}])
    assert v == {
        "cnn_auroc": 0.90,
        "baseline_auroc": 0.85,
        "best_val_auroc": 0.9,
        "status": "learnt",
        "message": "The model has learnt: test auROC 0.900, k-mer baseline 0.850.",
    }
    assert learning_verdict({"auroc": None})["status"] == "unknown"
    # a good test score but validation never left chance is still flagged
    assert learning_verdict({"auroc": 0.7}, [{"val_auroc": 0.5}])["status"] == "not_learning"
