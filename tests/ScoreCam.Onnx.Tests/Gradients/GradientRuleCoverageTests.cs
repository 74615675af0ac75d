using ScoreCam.Onnx.Gradients.Rules;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Every registered differentiation rule is checked against finite differences: its op occurs in the head of at
/// least one finite-difference case (<see cref="GradientRuleTests"/>, <see cref="ResizeRuleTests"/>). A rule
/// registered without a case fails here, naming it.
/// </summary>
public class GradientRuleCoverageTests
{
    [Test]
    public void Every_registered_rule_has_a_finite_difference_case()
    {
        var heads = GradientRuleTests.Rules().Select(c => (Func<OnnxGraphBuilder, string, string>)((GradientRuleTests.HeadBody)c.Arguments[0]!).Invoke)
            .Concat(GradientRuleTests.NewerOpsetHeads().Select(h => (Func<OnnxGraphBuilder, string, string>)h.Invoke))
            .Concat(ResizeRuleTests.AllHeads())
            .ToList();
        heads.Should().NotBeEmpty();
        var tested = GradientRuleTests.WithOwnWeights(() => heads.SelectMany(HeadOps).ToHashSet(StringComparer.Ordinal));

        GradientRules.OpTypes.Except(tested).Should().BeEmpty("every rule needs a finite-difference case (GradientRuleTests.Rules) that uses its op");
    }

    [Test]
    public void The_ops_of_a_head_are_those_after_the_target_layer()
    {
        // The harness's Identity (input to target layer) is not differentiated; the Flatten it appends is.
        HeadOps((g, a) => g.Node("Relu", new[] { a })).Should().BeEquivalentTo("Relu", "Flatten");
    }

    /// <summary>The op types a case differentiates: its head's nodes and the Flatten the harness appends, not the harness's input Identity.</summary>
    private static IEnumerable<string> HeadOps(Func<OnnxGraphBuilder, string, string> head)
    {
        var (g, a) = GradientCheck.Start(4, 5, 5, opset: 20);
        int before = g.Graph.Node.Count;
        g.Node("Flatten", new[] { head(g, a) }, "output");
        return g.Graph.Node.Skip(before).Select(n => n.OpType).ToList();
    }
}
