"""Image-level embedding training: backbones, PK batches, augmentation policies, retrieval metrics, the trainer.

Importing this package registers every custom Keras class, so `keras.saving.load_model` can read the `.keras`
files of the embedding runs. CLI: `python -m descriptors.embed`.
"""

from descriptors.embeddings.applications import APPLICATIONS, ApplicationEmbedder
from descriptors.embeddings.augmentation import POLICIES, Augmenter, parse_policy
from descriptors.embeddings.backbones import BACKBONES, build_backbone
from descriptors.embeddings.base import EmbeddingBackbone
from descriptors.embeddings.default_data import load_default_images, load_digits_images, load_face_images
from descriptors.embeddings.heads import embedding_head
from descriptors.embeddings.image_folder import load_image_folder
from descriptors.embeddings.images import LabelledImages
from descriptors.embeddings.layers import ApplicationPreprocessing, ChannelMean
from descriptors.embeddings.metrics import (
    evaluate_embeddings,
    knn_f1,
    knn_predict,
    macro_f1,
    map_at_k,
    recall_at_k,
    roc_auc,
    verification_roc_auc,
)
from descriptors.embeddings.patch_nets import PatchNetEmbedder
from descriptors.embeddings.pk_batches import PKBatches, pk_to_triplets, plan_pk_batches
from descriptors.embeddings.results import results_table
from descriptors.embeddings.simnet import SimNet
from descriptors.embeddings.swin import SwinTransformer
from descriptors.embeddings.tfeat import TFeat
from descriptors.embeddings.vit import VisionTransformer

__all__ = [
    "APPLICATIONS",
    "ApplicationEmbedder",
    "ApplicationPreprocessing",
    "Augmenter",
    "BACKBONES",
    "ChannelMean",
    "EmbeddingBackbone",
    "LabelledImages",
    "PKBatches",
    "POLICIES",
    "PatchNetEmbedder",
    "SimNet",
    "SwinTransformer",
    "TFeat",
    "VisionTransformer",
    "build_backbone",
    "embedding_head",
    "evaluate_embeddings",
    "knn_f1",
    "knn_predict",
    "load_default_images",
    "load_digits_images",
    "load_face_images",
    "load_image_folder",
    "macro_f1",
    "map_at_k",
    "parse_policy",
    "pk_to_triplets",
    "plan_pk_batches",
    "recall_at_k",
    "results_table",
    "roc_auc",
    "verification_roc_auc",
]
