// Package vpa asks the vertical Pod autoscaler for recommendations: VerticalPodAutoscaler
// objects in recommendation mode (updateMode "Off"), which never evict or resize a pod.
package vpa
