using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Training;

/// <summary>
/// Computes the training objective of one batch (one tensor per dataset field) with the model's forward pass.
/// Return the scalar loss tensor (it converts to <see cref="LossResult"/>), or a <see cref="LossResult"/> with the
/// number of correct predictions as well so that the trainer reports accuracy. The trainer also calls it to
/// evaluate, with the model in eval mode and autograd off: apply training-only randomness (augmentations) only when
/// <c>model.training</c>.
/// </summary>
public delegate LossResult LossFunction(Module model, Tensor[] batch);
