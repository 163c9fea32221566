using Microsoft.CodeAnalysis;

namespace Pisa.Generators;

/// <summary>Turns recipes into pipeline classes. Pipeline: parse (attributes, YAML) → equatable model → emit.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class RecipeGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
